/*
 * Test-only stand-in for Windows' bcryptprimitives.dll under Wine 8, which
 * lacks it. Rust's standard library (1.78+) imports ProcessPrng from that
 * DLL to seed its hash maps; without it, no Rust-built .dll loads under
 * Wine 8. This one forwards to BCryptGenRandom (which Wine has).
 *
 * Built by scripts/test-windows.sh into the Wine prefix's system32 only.
 * Never shipped: real Windows (8 and later) has its own bcryptprimitives.dll.
 */
#include <windows.h>
#include <bcrypt.h>

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length) {
  while (length > 0) {
    ULONG chunk = length > 0x40000000 ? 0x40000000 : (ULONG)length;
    if (!BCRYPT_SUCCESS(BCryptGenRandom(NULL, data, chunk,
                                        BCRYPT_USE_SYSTEM_PREFERRED_RNG))) {
      /* ProcessPrng is documented never to fail; a broken RNG must not
       * pass unnoticed, so stop the process as Windows would. */
      ExitProcess(0xC0000001u);
    }
    data += chunk;
    length -= chunk;
  }
  return TRUE;
}
