/* passwords -- argon2id password hashing with libsodium (crypto_pwhash_str).
 *
 * Hashes use the INTERACTIVE limits (64 MiB, ops 2: ~70 ms on one core here), so every
 * handler that calls into this file runs on the worker pool (HTTP_OFFLOAD). The encoded hash
 * carries its own salt and parameters, so a later change of limits still verifies old hashes.
 *
 * Concurrency. Each hash maps and touches 64 MiB. Letting every worker hash at once starves
 * the event loops (CPU and the kernel's mm lock: measured /health stalls of 100+ ms with 20
 * logins in flight), so at most HASH_CONCURRENCY hashes run at a time (default: CPUs - 1,
 * at least 1); the others wait on a semaphore in their worker thread.
 *
 * Unknown users: login must take as long for an unknown username as for a wrong password,
 * otherwise the timing tells which usernames exist. password_verify(NULL, pw) verifies
 * against a fixed hash of a random, discarded password with the same parameters, and
 * answers false. Nothing here logs or keeps a password. */
#include "auth.h"

#include "config.h"

#include <semaphore.h>
#include <string.h>
#include <unistd.h>

/* argon2id of 48 random hex chars that were thrown away; same cost as real hashes. */
static const char dummy_hash[] = "$argon2id$v=19$m=65536,t=2,p=1$VrBYB8pbwgO2svyIdI3Zlw$"
                                 "XVGibRetK8n8PP52iztyD4hqUz44REUMdQfacN6QL+Q";

static sem_t slots;
static int slots_ready;

int passwords_init(void) {
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    long def = ncpu > 1 ? ncpu - 1 : 1;
    long n = config_long("HASH_CONCURRENCY", def, 1, 256);
    if (slots_ready) sem_destroy(&slots);
    if (sem_init(&slots, 0, (unsigned)n) != 0) return -1;
    slots_ready = 1;
    return 0;
}

static void slot_take(void) {
    if (!slots_ready) return;
    while (sem_wait(&slots) != 0) {
    }
}

static void slot_give(void) {
    if (slots_ready) sem_post(&slots);
}

int password_hash(const char *pw, char out[crypto_pwhash_STRBYTES]) {
    slot_take();
    int rc = crypto_pwhash_str(out, pw, strlen(pw), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                               crypto_pwhash_MEMLIMIT_INTERACTIVE);
    slot_give();
    return rc == 0 ? 0 : -1;
}

bool password_verify(const char *hash, const char *pw) {
    bool known = hash != NULL && hash[0] != '\0' && strlen(hash) < crypto_pwhash_STRBYTES;
    slot_take();
    /* for an unknown user the result is irrelevant; the time spent is the point */
    int rc = crypto_pwhash_str_verify(known ? hash : dummy_hash, pw, strlen(pw));
    slot_give();
    return known && rc == 0;
}
