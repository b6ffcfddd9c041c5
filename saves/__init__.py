"""The SQLite session store: an event journal of engine inputs, snapshots, derived views.

What the rest of papertrade uses (all in `saves.store` / `saves.writer`):

    store = Store.open(path_or_None)                  # --db / $PAPERTRADE_DB / user data dir
    writer = store.start_session(name, venue, symbols, settings, engine=engine)
    outcomes = writer.apply(event)                    # engine.apply + journal (hot path)
    writer.append(event[, outcomes])                  # journal only, after engine.apply
    writer.flush(); writer.flushed_seq; writer.close(status="ended")
    engine, writer = store.resume(session)            # interrupted/ended session, or a branch
    store.list_sessions(derive=True)                  # [SessionRow]: info, or damaged="why"
    store.sessions() / store.session(ref)             # SessionInfo rows (ref: id, name, prefix)
    store.interrupted()                               # what the next start offers to resume
    store.events(ref, start_seq, end_seq)             # (seq, event) through branch parents
    store.engine_at(ref, seq)                         # seek: nearest snapshot + replay
    store.replay(ref)                                 # (seq, event, outcomes) from a fresh engine
    store.branch(ref, at_seq=|at_ts=, name=)          # -> new session id
    store.branch_market_events(branch)                # parent's later market data to play
    store.stats(ref)                                  # saves.stats.SessionStats
    store.delete(ref); store.import_session(...); store.export_lines(ref)

Behind the `Store` facade, one module per job: `opening` (refuse what is not ours, migrate),
`catalogue` (sessions table), `journal` (validated reads), `derive` (engine work), `listing`,
`transactions` (the one BEGIN IMMEDIATE/COMMIT/ROLLBACK helper every write goes through),
`locks` (per-session writer locks: fcntl on POSIX, msvcrt on Windows).

Errors are `saves.errors.StoreError` subclasses with messages meant for the user. Rows read
back are checked against `saves.bounds` (ts 0 … 253402300799999 ms, i.e. up to year 9999;
money a finite decimal; payloads that decode to valid events); a row that is not raises
`DamagedSession` naming the session and event. A path that is not a regular file (a
directory, /dev/null, a FIFO) is refused before SQLite opens it.
`saves/` imports only `core/` (plus the standard `sqlite3`, sqlite-utils for reading rows by
name, and platformdirs), never `feeds/` or `tui/`.
"""
