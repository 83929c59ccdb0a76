# tools/python.sh -- the one Python interpreter of the tests and tools: TIZZA_PYTHON, by
# default Debian's /usr/bin/python3, whose modules are the Debian packages tools/deps.sh
# installs (python3-yaml, python3-mockupdb, which brings pymongo's bson, python3-mongomock,
# python3-pil),
# unlike those of a python3 that may come first on PATH.
#
#   source tools/python.sh          sets and exports TIZZA_PYTHON; returns 1 when it lacks
#                                   one of the modules (every runner does this)
#   bash tools/python.sh ARGS...    the same, then execs "$TIZZA_PYTHON" ARGS...
#
# The modules are checked once per process tree: TIZZA_PYTHON_CHECKED is exported with the
# interpreter that passed, so runners started by another runner skip the check.

tizza_python_check() {
    local missing
    if [[ ${TIZZA_PYTHON_CHECKED:-} == "$TIZZA_PYTHON" ]]; then
        return 0
    fi
    if ! missing=$("$TIZZA_PYTHON" -c '
import importlib.util
print(" ".join(m for m in ("yaml", "mockupdb", "mongomock", "bson", "PIL")
               if importlib.util.find_spec(m) is None))' 2>&1); then
        echo "tools/python.sh: TIZZA_PYTHON=$TIZZA_PYTHON does not run: $missing" >&2
        return 1
    fi
    if [[ -n $missing ]]; then
        echo "tools/python.sh: $TIZZA_PYTHON lacks the modules: $missing" \
            "(tools/deps.sh installs them)" >&2
        return 1
    fi
    export TIZZA_PYTHON_CHECKED=$TIZZA_PYTHON
}

export TIZZA_PYTHON=${TIZZA_PYTHON:-/usr/bin/python3}
if [[ ${BASH_SOURCE[0]} != "$0" ]]; then
    tizza_python_check
    return
fi
tizza_python_check || exit 1
exec "$TIZZA_PYTHON" "$@"
