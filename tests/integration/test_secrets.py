"""Integration tests of secrets at rest, on the real binaries.

TestStoreFiles (SQLite): the store's files -- the database and the -wal and -shm files
SQLite adds next to it -- are 0600 whatever the umask the binary was started with, and a
database left group/world-readable by an older version is made 0600 at start.
"""
import os
import stat
import unittest

import harness
from harness import Client, Service, ServiceTestCase, new_store_url, run_cli

SIGNUP = "/api/v1/auth/signup"


def sqlite_path(store_url):
    return store_url[len("sqlite://"):]


class UmaskedTestCase(ServiceTestCase):

    def with_umask(self, mask, fn):
        old = os.umask(mask)
        try:
            return fn()
        finally:
            os.umask(old)

    def assertMode0600(self, path, what):
        self.assertTrue(os.path.exists(path), "%s: %s does not exist" % (what, path))
        mode = stat.S_IMODE(os.stat(path).st_mode)
        self.assertEqual(mode, 0o600, "%s: %s is %o, want 600" % (what, path, mode))


# ================================================================ store files

@unittest.skipUnless(harness.BACKEND == "sqlite", "SQLite files only")
class TestStoreFiles(UmaskedTestCase):

    def test_service_files_are_0600_whatever_the_umask(self):
        for mask in (0o000, 0o022):
            with self.subTest(umask="%03o" % mask):
                svc = self.with_umask(mask, lambda: Service(
                    tag="secrets-umask-%03o" % mask).start())
                try:
                    r = Client(svc).post(SIGNUP, {"username": harness.unique("perm"),
                                                  "email": "p%d@example.test" % mask,
                                                  "password": "pw-" + os.urandom(6).hex()})
                    self.assertEqual(r.status, 201, r)
                    path = sqlite_path(svc.store_url)
                    # While the service runs, SQLite keeps the -wal and -shm files.
                    for suffix in ("", "-wal", "-shm"):
                        self.assertMode0600(path + suffix, "auth (umask %03o)" % mask)
                finally:
                    svc.stop_and_check(self)

    def test_cli_creates_a_0600_database(self):
        for name in ("auth", "pizza", "likes", "tweets"):
            with self.subTest(service=name):
                url = new_store_url("secrets-" + name)
                p = self.with_umask(0, lambda: run_cli(["migrate"], store_url=url, name=name))
                self.assertEqual(p.returncode, 0, p.stderr)
                self.assertMode0600(sqlite_path(url), "tizza-%s migrate" % name)

    def test_existing_files_are_made_0600(self):
        url = new_store_url("secrets-old")
        path = sqlite_path(url)
        p = run_cli(["migrate"], store_url=url)
        self.assertEqual(p.returncode, 0, p.stderr)
        for suffix in ("", "-wal", "-shm"):  # as an older version left them
            with open(path + suffix, "ab"):
                pass
            os.chmod(path + suffix, 0o644)
        svc = self.with_umask(0o022, lambda: Service(store_url=url, tag="secrets-old").start())
        try:
            for suffix in ("", "-wal", "-shm"):
                self.assertMode0600(path + suffix, "existing database")
        finally:
            svc.stop_and_check(self)


if __name__ == "__main__":
    unittest.main()
