/* bcryptprimitives.dll for Wine 8.0, which lacks ProcessPrng: Go >= 1.22 programs on Windows take
   their random bytes from it and fail to start without it. Built by setup.sh with mingw-w64 and
   copied into the test prefix only; it fills the buffer from RtlGenRandom (advapi32's
   SystemFunction036), as Windows' own ProcessPrng is documented never to fail. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buf, ULONG len);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
	while (len > 0) {
		ULONG n = len > 0x40000000 ? 0x40000000 : (ULONG)len;
		if (!SystemFunction036(data, n))
			return FALSE;
		data += n;
		len -= n;
	}
	return TRUE;
}
