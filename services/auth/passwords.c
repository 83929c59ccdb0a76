/* passwords -- argon2id password hashing with libsodium (crypto_pwhash_str).
 *
 * Hashes use the INTERACTIVE limits (64 MiB, ops 2: ~70 ms on one core here), so every
 * handler that calls into this file runs on the worker pool (HTTP_OFFLOAD). The encoded hash
 * carries its own salt and parameters, so a later change of limits still verifies old hashes.
 *
 * Concurrency. Each hash maps and touches 64 MiB. Letting every worker hash at once starves
 * the event loops (CPU and the kernel's mm lock: measured /health stalls of 100+ ms with 20
 * logins in flight), so at most HASH_CONCURRENCY hashes run at a time (default: its row in
 * passwords_config_vars below); the others wait for a slot in their worker thread.
 *
 * Unknown users: login must take as long for an unknown username as for a wrong password,
 * otherwise the timing tells which usernames exist. password_verify_unknown(pw) verifies
 * against a fixed hash of a random, discarded password with the same parameters.
 *
 * Two lanes. A flood of logins with made-up usernames must not starve real users: with one
 * queue, every real login waited behind every dummy verification (measured: a real login
 * went from 0.3 s to 4.5-6.7 s under 16 threads of unknown-username logins,
 * RATE_LIMIT_LOGIN=0, one slot; 0.26-0.96 s with the lanes below). So:
 *   - a known user's hash (login, password change, signup) never waits for an unknown-user
 *     verification: it starts while fewer than HASH_CONCURRENCY known hashes run and fewer
 *     than HASH_CONCURRENCY + 1 hashes run in all. The one extra slot is only ever taken
 *     while unknown-user verifications hold slots (they cannot be interrupted), so that one
 *     slot is enough for a known user not to wait behind them;
 *   - an unknown-user verification starts only while no known hash waits, fewer than
 *     HASH_CONCURRENCY hashes run in all and fewer than HASH_CONCURRENCY - 1 (at least 1)
 *     unknown ones run; otherwise it waits in a bounded queue (LOGIN_UNKNOWN_QUEUE), and
 *     when that is full password_verify_unknown refuses at once and the login answers 503
 *     with Retry-After. A flood thus holds at most (its slots + queue) worker threads and
 *     costs no argon2id beyond its slots.
 * An idle server spends the same time on both kinds; under such a flood unknown usernames
 * are slower or refused while known ones are not -- which tells nothing new, since GET
 * /api/v1/users?username= says whether a username exists anyway.
 *
 * Nothing here logs or keeps a password. */
#include "auth.h"

#include "config.h"

#include <pthread.h>
#include <string.h>
#include <unistd.h>

/* argon2id of 48 random hex chars that were thrown away; same cost as real hashes. */
static const char dummy_hash[crypto_pwhash_STRBYTES] =
    "$argon2id$v=19$m=65536,t=2,p=1$VrBYB8pbwgO2svyIdI3Zlw$"
    "XVGibRetK8n8PP52iztyD4hqUz44REUMdQfacN6QL+Q";

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t freed = PTHREAD_COND_INITIALIZER;
static bool ready;          /* passwords_init() ran; before it (commands) nothing waits */
static int slots;           /* HASH_CONCURRENCY */
static int running;         /* hashes running, both lanes */
static int known_waiting;   /* known users' hashes waiting for a slot */
static int unknown_max;     /* slots unknown-user verifications may use */
static int unknown_running; /* of `running` */
static int unknown_waiting;
static int unknown_queue; /* LOGIN_UNKNOWN_QUEUE */

/* HASH_CONCURRENCY's default: a CPU left for the event loops, at least 1. */
static long concurrency_default(void) {
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    return ncpu > 1 ? ncpu - 1 : 1;
}

static long unknown_queue_default(void) { return config_long("HASH_CONCURRENCY"); }

const config_var_t passwords_config_vars[] = {
    {.name = "HASH_CONCURRENCY",
     .type = CONFIG_LONG,
     .def_fn = concurrency_default,
     .def_doc = "CPUs - 1, at least 1",
     .min = 1,
     .max = 256,
     .help = "argon2id hashes running at once (64 MiB each); one more while logins of unknown "
             "usernames hold slots, so known users never wait for them"},
    {.name = "LOGIN_UNKNOWN_QUEUE",
     .type = CONFIG_LONG,
     .def_fn = unknown_queue_default,
     .def_doc = "HASH_CONCURRENCY",
     .min = 0,
     .max = 100000,
     .help = "logins of unknown usernames waiting for a hash slot; more are refused with 503 "
             "at once"},
    {.name = NULL},
};

int passwords_init(void) {
    long n = config_long("HASH_CONCURRENCY");
    long q = config_long("LOGIN_UNKNOWN_QUEUE");
    pthread_mutex_lock(&lock);
    slots = (int)n;
    unknown_max = n > 1 ? (int)n - 1 : 1;
    unknown_queue = (int)q;
    running = known_waiting = unknown_running = unknown_waiting = 0;
    ready = true;
    pthread_mutex_unlock(&lock);
    return 0;
}

static bool known_may_run(void) { return running - unknown_running < slots && running < slots + 1; }

static bool unknown_may_run(void) {
    return running < slots && unknown_running < unknown_max && known_waiting == 0;
}

static void slot_take_known(void) {
    pthread_mutex_lock(&lock);
    if (ready) {
        known_waiting++;
        while (!known_may_run()) pthread_cond_wait(&freed, &lock);
        known_waiting--;
        running++;
    }
    pthread_mutex_unlock(&lock);
}

/* false when the queue is full: nothing taken. */
static bool slot_take_unknown(void) {
    pthread_mutex_lock(&lock);
    if (ready) {
        if (unknown_waiting > 0 || !unknown_may_run()) {
            if (unknown_waiting >= unknown_queue) {
                pthread_mutex_unlock(&lock);
                return false;
            }
            unknown_waiting++;
            while (!unknown_may_run()) pthread_cond_wait(&freed, &lock);
            unknown_waiting--;
        }
        running++;
        unknown_running++;
    }
    pthread_mutex_unlock(&lock);
    return true;
}

static void slot_give(bool unknown) {
    pthread_mutex_lock(&lock);
    if (ready) {
        running--;
        if (unknown) unknown_running--;
        /* known waiters go first: unknown_may_run() holds unknown ones back while any waits */
        pthread_cond_broadcast(&freed);
    }
    pthread_mutex_unlock(&lock);
}

int password_hash(const char *pw, char out[crypto_pwhash_STRBYTES]) {
    slot_take_known();
    int rc = crypto_pwhash_str(out, pw, strlen(pw), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                               crypto_pwhash_MEMLIMIT_INTERACTIVE);
    slot_give(false);
    return rc == 0 ? 0 : -1;
}

bool password_verify(const char *hash, const char *pw) {
    bool known = hash != NULL && hash[0] != '\0' && strlen(hash) < crypto_pwhash_STRBYTES;
    slot_take_known();
    /* a broken stored hash still costs a verification; its result is irrelevant */
    int rc = crypto_pwhash_str_verify(known ? hash : dummy_hash, pw, strlen(pw));
    slot_give(false);
    return known && rc == 0;
}

int password_verify_unknown(const char *pw) {
    if (!slot_take_unknown()) return -1;
    /* the result is irrelevant; the time spent is the point */
    int rc = crypto_pwhash_str_verify(dummy_hash, pw, strlen(pw));
    (void)rc;
    slot_give(true);
    return 0;
}
