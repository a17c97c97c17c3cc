package dev.dsv32.api.internal;

import dev.dsv32.api.Metrics;

/** Runs jobs: the local scheduler over an engine, or a remote server. */
public interface Runtime extends AutoCloseable {
    /** Starts a job; its outcome arrives later on a runtime thread. */
    void submit(Job job);

    /** Whether this runtime needs {@link Job#promptTokens}. */
    boolean needsTokens();

    /** Cache length per sequence in tokens (0: unknown, the server decides). */
    int maxContext();

    Metrics metrics();

    /** Frees a session's resources (its sequence); the session is idle. */
    void closeSession(SessionState s);

    /** A new session state with the same cached tokens (sharing them where the engine can); the session is idle. */
    SessionState fork(SessionState s);

    @Override
    void close();
}
