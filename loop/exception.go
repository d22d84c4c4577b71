package loop

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"reflect"
	"runtime"
	"runtime/debug"

	"github.com/aioloop/aioloop/internal/reactor"
)

// Exception is what the loop hands its exception handler: asyncio's context dict as a struct.
type Exception struct {
	Message   string // 'message': what happened, always set
	Err       error  // 'exception': a *PanicError for a recovered panic; nil for a warning
	Panic     any    // the value given to panic, when there was one
	Stack     []byte // the goroutine's stack where it happened, when known
	Callback  string // 'handle': the function name of the callback involved
	Transport any    // 'transport': the transport involved
	Protocol  any    // 'protocol': the protocol involved, set by transports
}

// PanicError wraps a value recovered from a panic in a callback or handler.
type PanicError struct {
	Value any    // what was passed to panic
	Stack []byte // where it panicked
}

// Error says what was passed to panic.
func (e *PanicError) Error() string { return fmt.Sprintf("panic: %v", e.Value) }

// Unwrap returns the panic value when it is an error, so that errors.Is sees through the panic.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

// SetExceptionHandler sets the function that receives every Exception (asyncio's
// set_exception_handler); nil restores DefaultExceptionHandler. The handler runs on the loop
// goroutine. Any goroutine.
func (l *Loop) SetExceptionHandler(h func(Exception)) {
	if h == nil {
		l.excHandler.Store(nil)
		return
	}
	l.excHandler.Store(&h)
}

// ExceptionHandler returns the handler set by SetExceptionHandler, or nil for the default
// (asyncio's get_exception_handler). Any goroutine.
func (l *Loop) ExceptionHandler() func(Exception) {
	if h := l.excHandler.Load(); h != nil {
		return *h
	}
	return nil
}

// CallExceptionHandler hands e to the exception handler (asyncio's call_exception_handler). A
// panic in the handler is recovered and logged by DefaultExceptionHandler together with e. A
// report whose Err is (or wraps) a *PanicError counts in Stats.Panics: the loop's own, and those of
// protocol methods that the transports recover. Loop-only.
func (l *Loop) CallExceptionHandler(e Exception) {
	l.ctr.Exceptions++
	if _, ok := errors.AsType[*PanicError](e.Err); ok {
		l.ctr.Panics++
	}
	h := l.ExceptionHandler()
	if h == nil {
		l.safeDefault(e)
		return
	}
	defer func() {
		if v := recover(); v != nil {
			stack := debug.Stack()
			l.safeDefault(Exception{
				Message: "panic in the exception handler while handling: " + e.Message,
				Err:     &PanicError{Value: v, Stack: stack},
				Panic:   v, Stack: stack, Callback: e.Callback, Transport: e.Transport, Protocol: e.Protocol,
			})
			l.safeDefault(e)
		}
	}()
	h(e)
}

// safeDefault runs DefaultExceptionHandler and contains a panic in it (its logger's handler), as
// asyncio guards default_exception_handler: the report goes to standard error instead, the one
// place left, and the loop goes on.
func (l *Loop) safeDefault(e Exception) {
	defer func() {
		if v := recover(); v != nil {
			fmt.Fprintf(os.Stderr, "aioloop: loop %q: panic in the default exception handler: %v\nwhile reporting: %s (%v)\n",
				l.name, v, e.Message, e.Err)
		}
	}()
	l.DefaultExceptionHandler(e)
}

// DefaultExceptionHandler logs e through log/slog (Options.Logger, else slog.Default()): at level
// Error when it carries an error, Warn otherwise (a slow callback), with the loop, callback,
// transport and protocol named (asyncio's default_exception_handler). Any goroutine.
func (l *Loop) DefaultExceptionHandler(e Exception) {
	logger := l.opts.Logger
	if logger == nil {
		logger = slog.Default()
	}
	level := slog.LevelWarn
	attrs := []slog.Attr{slog.String("loop", l.name)}
	if e.Err != nil {
		level = slog.LevelError
		attrs = append(attrs, slog.Any("error", e.Err))
	}
	if e.Callback != "" {
		attrs = append(attrs, slog.String("callback", e.Callback))
	}
	if e.Transport != nil {
		attrs = append(attrs, slog.String("transport", fmt.Sprintf("%T", e.Transport)))
	}
	if e.Protocol != nil {
		attrs = append(attrs, slog.String("protocol", fmt.Sprintf("%T", e.Protocol)))
	}
	if len(e.Stack) > 0 {
		attrs = append(attrs, slog.String("stack", string(e.Stack)))
	}
	logger.LogAttrs(context.Background(), level, e.Message, attrs...)
}

// funcName names a callback for a report: its function's symbol, such as "main.main.func1".
func funcName(fn any) string {
	v := reflect.ValueOf(fn)
	if v.Kind() != reflect.Func || v.IsNil() {
		return ""
	}
	if f := runtime.FuncForPC(v.Pointer()); f != nil {
		return f.Name()
	}
	return "?"
}

// describe names what ran: the callback, or for an fd handler the transport (and, for AddReader and
// AddWriter, the callback behind it).
func describe(fn func(), h reactor.Handler, readable bool) (callback string, transport any) {
	switch w := h.(type) {
	case nil:
		return funcName(fn), nil
	case *watch:
		if readable {
			return funcName(w.reader), nil
		}
		return funcName(w.writer), nil
	default:
		method := "OnWritable"
		if readable {
			method = "OnReadable"
		}
		var owner any = h
		if o, ok := h.(reactor.Owner); ok {
			owner = o.Owner()
		}
		return fmt.Sprintf("%T.%s", owner, method), owner
	}
}

// reportPanic reports a recovered panic and tells a PanicHandler. Loop goroutine.
func (l *Loop) reportPanic(v any, fn func(), h reactor.Handler, readable bool) {
	pe := &PanicError{Value: v, Stack: debug.Stack()}
	cb, tr := describe(fn, h, readable)
	l.CallExceptionHandler(Exception{
		Message: "panic in " + cb, Err: pe, Panic: v, Stack: pe.Stack, Callback: cb, Transport: tr,
	})
	if ph, ok := h.(reactor.PanicHandler); ok {
		l.notifyPanic(ph, pe)
	}
}

// notifyPanic calls OnPanic; a panic there is reported too, but not handed back to OnPanic.
func (l *Loop) notifyPanic(ph reactor.PanicHandler, pe *PanicError) {
	defer func() {
		if v := recover(); v != nil {
			l.reportPanic(v, nil, nil, false)
		}
	}()
	ph.OnPanic(pe)
}
