// Compact JWS (RFC 7515) with RS256, the only algorithm Google and Microsoft use for id_tokens
// and the sandbox's access tokens.
#pragma once

#include <string>
#include <string_view>

#include "sandbox/crypto/signing_key.h"

#include "sb/base/json.h"
#include "sb/base/status.h"

namespace sandbox::crypto {

// Returns base64url(header).base64url(payload).base64url(signature), where header is
// {"alg":"RS256","kid":key.kid(),"typ":"JWT"} with the members of `header_extra` (an object or
// null) merged over it, so a caller may change typ or kid, e.g. to test an unknown kid. An
// "alg" other than "RS256" is refused: the signature is RS256 whatever the header says.
// `payload` must be an object; strings that are not UTF-8 are refused.
sb::Result<std::string> SignJwtRs256(const nlohmann::json& header_extra,
                                     const nlohmann::json& payload, const RsaSigningKey& key);

// Checks that `jwt` is a well-formed compact JWS whose header says alg RS256 and whose
// signature verifies under the RSA key in `public_key_pem` (SubjectPublicKeyInfo PEM), and
// returns its payload object. Claims (exp, aud, iss...) are the caller's business.
// Errors: kInvalidArgument for malformed input or a PEM that is no RSA public key,
// kUnauthenticated for a wrong algorithm or a bad signature.
sb::Result<nlohmann::json> VerifyJwtRs256(std::string_view jwt, std::string_view public_key_pem);

}  // namespace sandbox::crypto
