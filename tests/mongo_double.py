"""mongo_double -- a MongoDB wire-protocol test double for Tizza's store conformance suite.

What it is: a small TEST FIXTURE that lets libcommon/store_mongo.c (libmongoc 1.23) run the
conformance suite (libcommon/tests/test_store.c) without a MongoDB server, which Debian does
not package. python3-mockupdb speaks the wire protocol (OP_QUERY handshake, OP_MSG); Python
dicts in python3-mongomock are the query engine. It looks like the primary of a one-node
replica set "rs0" (hello with setName/hosts/me/primary, maxWireVersion 13,
logicalSessionTimeoutMinutes) so libmongoc allows sessions and transactions.

Transactions: the first command of a transaction (autocommit false, startTransaction)
snapshots the whole data set; the transaction's reads and writes go to that snapshot, and
its writes are logged, with the documents each one writes (db, collection, _id: the ids
inserted, or matched in the snapshot by an update/delete). Every document has a version:
the number of the last committed write to it, bumped by every commit that wrote it and by
every write outside a transaction. A write in a transaction to a document that another
open transaction has written, or that was committed after this transaction's snapshot, is
a WriteConflict (code 112, errorLabels ["TransientTransactionError"]) at that write, and
the transaction is aborted -- MongoDB's rule: the first writer keeps the document. At
commitTransaction the same version check runs again (a write outside any transaction may
have landed meanwhile: WriteConflict, nothing applied); otherwise it replays the log on a
copy of the current data and swaps it in (a replay that fails -> the same WriteConflict,
nothing applied). Replayed updates and deletes are narrowed to the ids they matched in the
snapshot: a transaction's delete never removes a document committed by another since its
snapshot (it did not see it). abortTransaction, or any failed command inside the
transaction (as on MongoDB), drops the snapshot: no trace. So do, as on MongoDB, endSessions
(for the transactions of the sessions it lists) and the transaction lifetime limit
(transactionLifetimeLimitSeconds, 60 s from the first command: a transaction left open by a
killed client stops blocking others' writes then; its next command gets NoSuchTransaction).

Commands: hello/isMaster, ping, buildInfo, endSessions, killCursors, create, createIndexes
(unique and partialFilterExpression enforced: code 11000), insert, find (filter, sort, skip,
limit, projection), aggregate, count, update ($set/$inc/..., multi), delete,
commitTransaction, abortTransaction. Any other command gets a CommandNotFound error reply.
Every result fits in the first batch (cursor id 0), so getMore is never needed.

What it is not: a database. No persistence, no auth/TLS, no getMore, no real oplog or
clusterTime, mongomock's query semantics (plus one fix: booleans never equal numbers, as in
MongoDB). Requests are served one at a time (mockupdb holds one lock per request).
Write conflicts: as on MongoDB, of two overlapping transactions that write one document
the first to write it keeps it and the second is aborted at its write. Differences: MongoDB
makes a write outside a transaction wait for an open transaction that wrote the document;
here it goes through and that transaction fails at its commit. Only documents are
versioned: no conflicts on collections or indexes (create/createIndexes), none for
documents an upsert creates (the store never upserts), and reads never conflict (snapshot
isolation, write skew included, as on MongoDB). An update counts as writing every document
it matches, even one it leaves unchanged, where MongoDB does not write (and so does not
conflict on) a no-op update: here that is a spurious WriteConflict at most.

Usage (tools/python.sh runs it with the interpreter that has the packages):
    bash tools/python.sh tests/mongo_double.py --port 0 [--verbose]
prints "PORT <n>" as its first stdout line once listening, serves until SIGTERM/SIGINT,
then exits 0. Clients connect with
    mongodb://127.0.0.1:<n>/?replicaSet=rs0&serverSelectionTimeoutMS=5000
(the host must be 127.0.0.1: it is the name the double announces as hosts/me/primary).
In a container (deploy/docker/offline/mongo-double.Dockerfile) it listens on every address
and announces the name the services' URLs use:
    mongo_double.py --host 0.0.0.0 --port 27017 --advertise mongo:27017
"""
import argparse
import copy
import datetime
import signal
import sys
import threading
import time

import mockupdb
import mongomock
import mongomock.filtering as mf
from bson.int64 import Int64
from bson.objectid import ObjectId
from mongomock.store import ServerStore

# ---- one fidelity fix to mongomock: True == 1 in Python, not in MongoDB ----------------
_mongomock_eq = mf.operator_eq


def _eq(doc_val, search_val):
    if isinstance(doc_val, bool) != isinstance(search_val, bool):
        return False
    return _mongomock_eq(doc_val, search_val)


def _in(doc_val, search_val):
    if not isinstance(search_val, (list, tuple)):
        raise mongomock.OperationFailure('$in needs an array')
    if doc_val is mf.NOTHING and None in search_val:
        return True
    return any(_eq(d, s) for d in mf._force_list(doc_val) for s in search_val)


mf.operator_eq = _eq
mf._in_op = _in
mf._filterer_inst = mf._Filterer()  # rebuild the operator table with the fixed functions


# ---- helpers -------------------------------------------------------------------------
def error(code, msg, name, labels=None):
    reply = {'ok': 0, 'code': code, 'codeName': name, 'errmsg': msg}
    if labels:
        reply['errorLabels'] = labels
    return reply


def clone(store):
    """A deep copy of a mongomock ServerStore (its locks cannot be deep-copied)."""
    out = ServerStore()
    for db_name, db in store._databases.items():
        for name, coll in db._collections.items():
            copy_ = out[db_name][name]
            copy_._documents = copy.deepcopy(coll._documents)
            copy_.indexes = copy.deepcopy(coll.indexes)
            copy_._is_force_created = coll._is_force_created
    return out


def cursor(coll, docs):
    return {'ok': 1, 'cursor': {'id': Int64(0), 'ns': coll.full_name, 'firstBatch': docs}}


def dup_message(coll, doc):
    """MongoDB's E11000 text, naming the unique index that doc collides with."""
    index, key = '_id_', {'_id': doc.get('_id')}
    if doc is not None and coll.find_one({'_id': doc.get('_id')}) is None:
        for name, info in coll.index_information().items():
            fields = [f for f, _ in info['key']]
            query = {f: doc.get(f) for f in fields}
            if info.get('unique') and all(f in doc for f in fields) and coll.find_one(query):
                index, key = name, query
                break
    shown = ', '.join('%s: %r' % kv for kv in key.items())
    return 'E11000 duplicate key error collection: %s index: %s dup key: { %s }' % (
        coll.full_name, index, shown)


def write_error(index, exc, coll, doc=None):
    if isinstance(exc, mongomock.DuplicateKeyError):
        msg = dup_message(coll, doc) if doc else 'E11000 duplicate key error collection: ' \
            + coll.full_name
        return {'index': index, 'code': 11000, 'errmsg': msg}
    return {'index': index, 'code': getattr(exc, 'code', None) or 2, 'errmsg': str(exc)}


def write_reply(n, errors, **extra):
    reply = dict({'ok': 1, 'n': n}, **extra)
    if errors:
        reply['writeErrors'] = errors
    return reply


# ---- commands: fn(database, command document) -> reply document -------------------------
def cmd_create(db, cmd):
    if cmd['create'] in db.list_collection_names():
        return error(48, 'Collection %s.%s already exists.' % (db.name, cmd['create']),
                     'NamespaceExists')
    db.create_collection(cmd['create'])
    return {'ok': 1}


def cmd_create_indexes(db, cmd):
    coll = db[cmd['createIndexes']]
    before = len(coll.index_information())
    for spec in cmd.get('indexes', []):
        opts = {'name': spec['name'], 'unique': bool(spec.get('unique', False))}
        if 'partialFilterExpression' in spec:
            opts['partialFilterExpression'] = spec['partialFilterExpression']
        try:
            coll.create_index(list(spec['key'].items()), **opts)
        except mongomock.DuplicateKeyError:
            return error(11000, 'E11000 duplicate key error collection: %s index: %s'
                         % (coll.full_name, spec['name']), 'DuplicateKey')
        except mongomock.OperationFailure as exc:
            return error(85, str(exc), 'IndexOptionsConflict')
    return {'ok': 1, 'numIndexesBefore': before,
            'numIndexesAfter': len(coll.index_information())}


def cmd_insert(db, cmd):
    coll, n, errors = db[cmd['insert']], 0, []
    for i, doc in enumerate(cmd.get('documents', [])):
        try:
            coll.insert_one(copy.deepcopy(doc))
            n += 1
        except mongomock.WriteError as exc:
            errors.append(write_error(i, exc, coll, doc))
            if cmd.get('ordered', True):
                break
    return write_reply(n, errors)


def cmd_update(db, cmd):
    coll, n, modified, errors = db[cmd['update']], 0, 0, []
    for i, u in enumerate(cmd.get('updates', [])):
        fn = coll.update_many if u.get('multi') else coll.update_one
        try:
            r = fn(u['q'], copy.deepcopy(u['u']), upsert=bool(u.get('upsert')))
            n, modified = n + r.matched_count, modified + r.modified_count
        except mongomock.OperationFailure as exc:
            errors.append(write_error(i, exc, coll))
            if cmd.get('ordered', True):
                break
    return write_reply(n, errors, nModified=modified)


def cmd_delete(db, cmd):
    coll, n = db[cmd['delete']], 0
    for d in cmd.get('deletes', []):
        r = coll.delete_one(d['q']) if d.get('limit') == 1 else coll.delete_many(d['q'])
        n += r.deleted_count
    return write_reply(n, [])


def cmd_find(db, cmd):
    coll = db[cmd['find']]
    cur = coll.find(cmd.get('filter') or {}, projection=cmd.get('projection'))
    if cmd.get('sort'):
        cur = cur.sort(list(cmd['sort'].items()))
    if cmd.get('skip'):
        cur = cur.skip(int(cmd['skip']))
    if cmd.get('limit'):
        cur = cur.limit(abs(int(cmd['limit'])))
    return cursor(coll, list(cur))


def cmd_aggregate(db, cmd):
    coll = db[cmd['aggregate']]
    return cursor(coll, list(coll.aggregate(cmd.get('pipeline', []))))


def cmd_count(db, cmd):
    return {'ok': 1, 'n': db[cmd['count']].count_documents(cmd.get('query') or {})}


COMMANDS = {'create': cmd_create, 'createindexes': cmd_create_indexes, 'insert': cmd_insert,
            'update': cmd_update, 'delete': cmd_delete, 'find': cmd_find,
            'aggregate': cmd_aggregate, 'count': cmd_count}
WRITES = {cmd_create, cmd_create_indexes, cmd_insert, cmd_update, cmd_delete}


def written(db, fn, cmd):
    """(keys, replay): the keys (db, collection, repr(_id)) of the documents cmd will write,
    found in db before it runs -- the ids inserted, or matched by each update/delete (one
    for a non-multi update or a limit-1 delete) -- and cmd with each update/delete filter
    narrowed to exactly those ids, so that a commit replays the transaction's writes on the
    documents it saw, not on others committed since (as MongoDB would)."""
    if fn is cmd_insert:
        ids = [d['_id'] for d in cmd.get('documents', []) if '_id' in d]
        return {(db.name, cmd['insert'], repr(i)) for i in ids}, cmd
    if fn is cmd_update:
        name, field, every = cmd['update'], 'updates', {'multi': True}
        one = lambda u: not u.get('multi')  # noqa: E731
    elif fn is cmd_delete:
        name, field, every = cmd['delete'], 'deletes', {'limit': 0}
        one = lambda d: d.get('limit') == 1  # noqa: E731
    else:
        return set(), cmd
    keys, replay = set(), dict(cmd, **{field: []})
    for op in cmd.get(field, []):
        found = db[name].find(op['q'], projection={'_id': 1})
        ids = [d['_id'] for d in (found.limit(1) if one(op) else found)]
        keys.update((db.name, name, repr(i)) for i in ids)
        replay[field].append(dict(op, q={'_id': {'$in': ids}}, **every))
    return keys, replay




class Txn:
    def __init__(self, number, store, snapshot, lifetime):
        self.number, self.log, self.wrote, self.snapshot = number, [], set(), snapshot
        self.client = mongomock.MongoClient(_store=store)
        self.expires = time.monotonic() + lifetime


class Double:
    def __init__(self, port, verbose, host='127.0.0.1', advertise=None, txn_lifetime=60.0):
        self.verbose = verbose
        self.txn_lifetime = txn_lifetime  # transactionLifetimeLimitSeconds
        self.server = mockupdb.MockupDB(port=port, request_timeout=10 ** 6)
        self.server._address = (host, port)  # bind one exact address
        self.advertise = advertise  # host:port announced in hello (default 127.0.0.1:<port>)
        self.client = mongomock.MongoClient(_store=ServerStore())
        self.txns = {}  # lsid -> Txn
        self.clock = 0  # number of the last committed write
        self.versions = {}  # (db, collection, repr(_id)) -> clock of its last committed write
        self.server.autoresponds(self.handle)

    def run(self):
        self.port = self.server.run()
        return self.port

    def stop(self):
        self.server.stop()

    def hello(self):
        me = self.advertise or '127.0.0.1:%d' % self.port
        return {'ok': 1, 'helloOk': True, 'ismaster': True, 'isWritablePrimary': True,
                'secondary': False, 'setName': 'rs0', 'setVersion': 1, 'hosts': [me],
                'primary': me, 'me': me, 'electionId': ObjectId('7fffffff0000000000000001'),
                'minWireVersion': 0, 'maxWireVersion': 13, 'maxBsonObjectSize': 16 << 20,
                'maxMessageSizeBytes': 48000000, 'maxWriteBatchSize': 100000,
                'logicalSessionTimeoutMinutes': 30, 'readOnly': False, 'connectionId': 1,
                'localTime': datetime.datetime.now(datetime.timezone.utc)}

    def handle(self, request):
        """mockupdb calls this for every request, one at a time."""
        if not request.is_command:
            request.fail('mongo_double: only commands are supported')
            return True
        name, doc = request.command_name, request.doc
        try:
            reply = self.dispatch(name.lower(), request.namespace, doc)
        except Exception as exc:  # a fixture replies, it does not crash
            reply = error(8, 'mongo_double: %s: %r' % (name, exc), 'UnknownError')
        if self.verbose:
            print('%s %r -> %r' % (name, dict(doc), reply), file=sys.stderr, flush=True)
        request.replies(reply)
        return True

    def dispatch(self, name, db_name, cmd):
        now = time.monotonic()  # transactions past their lifetime are aborted
        for key in [k for k, t in self.txns.items() if t.expires < now]:
            del self.txns[key]
        if name in ('hello', 'ismaster'):
            return self.hello()
        if name == 'ping':
            return {'ok': 1}
        if name == 'endsessions':  # as on MongoDB: their open transactions are aborted
            for lsid in cmd.get('endSessions') or []:
                self.txns.pop(self.session({'lsid': lsid}), None)
            return {'ok': 1}
        if name == 'killcursors':
            return {'ok': 1, 'cursorsKilled': cmd.get('cursors', [])}
        if name == 'buildinfo':
            return {'ok': 1, 'version': '5.0.0', 'versionArray': [5, 0, 0, 0]}
        if name == 'committransaction':
            return self.commit(cmd)
        if name == 'aborttransaction':  # like MongoDB: NoSuchTransaction once it is gone
            if self.txns.pop(self.session(cmd), None) is None:
                return error(251, 'Transaction %s has been aborted.' % cmd.get('txnNumber'),
                             'NoSuchTransaction')
            return {'ok': 1}
        fn = COMMANDS.get(name)
        if fn is None:
            return error(59, "no such command: '%s'" % name, 'CommandNotFound')
        if cmd.get('autocommit') is False:
            return self.in_txn(fn, db_name, cmd)
        keys, _ = written(self.client[db_name], fn, cmd)
        reply = fn(self.client[db_name], cmd)
        self.bump(keys)
        return reply

    def bump(self, keys):
        """A committed write to keys (a superset is harmless: a spurious conflict at most)."""
        if keys:
            self.clock += 1
            self.versions.update((k, self.clock) for k in keys)

    @staticmethod
    def session(cmd):
        return bytes(cmd['lsid']['id'].bytes if hasattr(cmd['lsid']['id'], 'bytes')
                     else cmd['lsid']['id'])

    def in_txn(self, fn, db_name, cmd):
        key, number = self.session(cmd), cmd.get('txnNumber')
        if cmd.get('startTransaction'):
            self.txns[key] = Txn(number, clone(self.client._store), self.clock,
                                 self.txn_lifetime)
        txn = self.txns.get(key)
        if txn is None or txn.number != number:
            return error(251, 'Transaction %s has been aborted.' % number, 'NoSuchTransaction',
                         ['TransientTransactionError'])
        keys, replay = written(txn.client[db_name], fn, cmd)
        if keys and self.conflicts(txn, keys):
            del self.txns[key]  # as on MongoDB: the second writer is aborted at its write
            return error(112, 'WriteConflict: another transaction wrote the document',
                         'WriteConflict', ['TransientTransactionError'])
        reply = fn(txn.client[db_name], cmd)
        if reply.get('ok') != 1 or reply.get('writeErrors'):
            del self.txns[key]  # MongoDB aborts a transaction on any error
        elif fn in WRITES:
            txn.log.append((fn, db_name, replay))
            txn.wrote |= keys
        return reply

    def conflicts(self, txn, keys):
        """MongoDB's rule at a write in a transaction: a document written by another open
        transaction, or committed after this transaction's snapshot, is a write conflict."""
        if any(self.versions.get(k, 0) > txn.snapshot for k in keys):
            return True
        return any(other is not txn and other.wrote & keys for other in self.txns.values())

    def commit(self, cmd):
        txn = self.txns.pop(self.session(cmd), None)
        if txn is None or txn.number != cmd.get('txnNumber'):
            return error(251, 'Transaction %s has been aborted.' % cmd.get('txnNumber'),
                         'NoSuchTransaction', ['TransientTransactionError'])
        conflict = error(112, 'WriteConflict: the data changed under the transaction',
                         'WriteConflict', ['TransientTransactionError'])
        if any(self.versions.get(k, 0) > txn.snapshot for k in txn.wrote):
            return conflict  # first committer wins
        client = mongomock.MongoClient(_store=clone(self.client._store))
        for fn, db_name, logged in txn.log:
            reply = fn(client[db_name], logged)
            if reply.get('ok') != 1 or reply.get('writeErrors'):
                return conflict
        self.client = client
        self.bump(txn.wrote)
        return {'ok': 1}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--port', type=int, default=0, help='0 picks a free port')
    parser.add_argument('--host', default='127.0.0.1', help='address to listen on')
    parser.add_argument('--advertise', metavar='HOST:PORT',
                        help='the name announced as hosts/me/primary (default 127.0.0.1:PORT)')
    parser.add_argument('--txn-lifetime', type=float, default=60.0, metavar='SECONDS',
                        help="MongoDB's transactionLifetimeLimitSeconds: an open transaction "
                             'older than this is aborted (default 60, as on MongoDB)')
    parser.add_argument('--verbose', action='store_true', help='log commands to stderr')
    args = parser.parse_args()

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    double = Double(args.port, args.verbose, args.host, args.advertise, args.txn_lifetime)
    print('PORT %d' % double.run(), flush=True)
    while not stop.wait(0.5):
        pass
    double.stop()
    return 0


if __name__ == '__main__':
    sys.exit(main())
