/* passwords -- argon2id password hashing with libsodium (crypto_pwhash_str).
 *
 * Hashes use the INTERACTIVE limits (about 64 MiB and a few tenths of a second), so every
 * handler that calls into this file runs on the worker pool (HTTP_OFFLOAD). The encoded hash
 * carries its own salt and parameters, so a later change of limits still verifies old hashes.
 *
 * Unknown users: login must take as long for an unknown username as for a wrong password,
 * otherwise the timing tells which usernames exist. passwords_init() hashes a random
 * password once; password_verify(NULL, pw) verifies against that dummy and answers false.
 * Nothing here logs or keeps a password. */
#include "auth.h"

#include <string.h>

static char dummy_hash[crypto_pwhash_STRBYTES];

int passwords_init(void) {
    unsigned char rnd[24];
    char pw[sizeof rnd * 2 + 1];

    randombytes_buf(rnd, sizeof rnd);
    sodium_bin2hex(pw, sizeof pw, rnd, sizeof rnd);
    int rc = password_hash(pw, dummy_hash);
    sodium_memzero(pw, sizeof pw);
    sodium_memzero(rnd, sizeof rnd);
    return rc;
}

int password_hash(const char *pw, char out[crypto_pwhash_STRBYTES]) {
    if (crypto_pwhash_str(out, pw, strlen(pw), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
        return -1;
    return 0;
}

bool password_verify(const char *hash, const char *pw) {
    size_t len = strlen(pw);

    if (hash == NULL || hash[0] == '\0' || strlen(hash) >= crypto_pwhash_STRBYTES) {
        /* the result is irrelevant; the time spent is the point */
        if (dummy_hash[0] != '\0' && crypto_pwhash_str_verify(dummy_hash, pw, len) == 0)
            return false;
        return false;
    }
    return crypto_pwhash_str_verify(hash, pw, len) == 0;
}
