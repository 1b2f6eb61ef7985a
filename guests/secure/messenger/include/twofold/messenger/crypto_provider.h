#pragma once
// libomemo-c's crypto callbacks, implemented with OpenSSL 3 (EVP). This is glue: every
// primitive is OpenSSL's; the functions only convert between the two libraries' calling
// conventions and free what they allocate.
#include <signal_protocol.h>

namespace twofold::messenger {

// A provider table whose user_data is unused (OpenSSL keeps no per-caller state here).
signal_crypto_provider openssl_crypto_provider();

}  // namespace twofold::messenger
