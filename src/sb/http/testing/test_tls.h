// A self-signed test certificate (EC P-256, CN=localhost, SAN IP:127.0.0.1 and DNS:localhost,
// valid for 100 years) and its key, for TLS server tests only. Generated with
//   openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -days 36500 -nodes
//     -subj /CN=localhost -addext subjectAltName=IP:127.0.0.1,DNS:localhost
#pragma once

namespace sb::http::testing {

inline constexpr char kTestCertificatePem[] = R"pem(-----BEGIN CERTIFICATE-----
MIIBmzCCAUGgAwIBAgIUJ239whg9it+Seu0cHeyp9CnrEdIwCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJbG9jYWxob3N0MCAXDTI2MTEyNTIyMjcxMloYDzIxMjYxMTAx
MjIyNzEyWjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAATXQrcfJztCNe9GsPIGoQHxaxpNhmrgZ0QwduB2CVwFR9OJ99qgWRTS
BnRgKUt1YC/moZixoZdkoYUC+10EDx57o28wbTAdBgNVHQ4EFgQUZNlN05XkrTjW
Q5z6les+6kUkCPEwHwYDVR0jBBgwFoAUZNlN05XkrTjWQ5z6les+6kUkCPEwDwYD
VR0TAQH/BAUwAwEB/zAaBgNVHREEEzARhwR/AAABgglsb2NhbGhvc3QwCgYIKoZI
zj0EAwIDSAAwRQIhAJSJZ4HqXLXE9ZTfGcLsh3O1HmEf8Fkaai3iLG1Tnk/9AiAD
Tsg2Cplg8eLSJZmNxHoN8agp79THP9sa+b9WAfw3Ow==
-----END CERTIFICATE-----
)pem";

inline constexpr char kTestPrivateKeyPem[] = R"pem(-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg3ga1bTmJ3EzUZ7J3
C74yPQ+3DmK/z1HaKzjQcAVlOCChRANCAATXQrcfJztCNe9GsPIGoQHxaxpNhmrg
Z0QwduB2CVwFR9OJ99qgWRTSBnRgKUt1YC/moZixoZdkoYUC+10EDx57
-----END PRIVATE KEY-----
)pem";

}  // namespace sb::http::testing
