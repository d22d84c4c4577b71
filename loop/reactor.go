package loop

import (
	"fmt"

	"github.com/aioloop/aioloop/internal/reactor"
)

// hooks is the Loop as internal/reactor sees it: the methods the transport packages need and users
// do not, kept off the Loop's public methods.
type hooks Loop

func init() {
	reactor.Of = func(l any) reactor.Loop { return (*hooks)(l.(*Loop)) }
}

func (h *hooks) Register(fd int, hd reactor.Handler, in reactor.Interest) (reactor.Registration, error) {
	r, err := (*Loop)(h).register(fd, hd, in)
	return r, err // a failed registration is the zero value, whose methods say errNotRegistered
}

func (h *hooks) Local(key any, mk func() any) any {
	if v, ok := h.locals[key]; ok {
		return v
	}
	if h.locals == nil {
		h.locals = make(map[any]any)
	}
	v := mk()
	h.locals[key] = v
	return v
}

func (h *hooks) Track(r reactor.Resource) error {
	if h.closing || h.closed.Load() {
		return ErrClosed
	}
	if h.shuttingDown {
		return fmt.Errorf("loop: shutting down: %w", ErrClosed)
	}
	if h.owned == nil {
		h.owned = make(map[reactor.Resource]struct{})
	}
	h.owned[r] = struct{}{}
	return nil
}

func (h *hooks) Untrack(r reactor.Resource) {
	delete(h.owned, r)
	if len(h.owned) == 0 && len(h.drained) > 0 {
		for _, c := range h.drained {
			close(c)
		}
		h.drained = nil
	}
}
