package dev.dsv32.nativ;

import dev.dsv32.nativ.jni.Dsv32Native.dsv32_progress_fn;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Bridges {@link LoadProgressListener}s to the engine's {@code dsv32_progress_fn}. One native callback for the whole
 * process (JavaCPP keeps a handful of callback slots per class, so none is allocated per open); each open registers
 * its listener under an id that travels as the callback's {@code user} pointer.
 */
final class LoadProgress {
    private static final Logger LOG = LoggerFactory.getLogger(LoadProgress.class);
    private static final AtomicLong IDS = new AtomicLong();
    private static final Map<Long, Registration> LISTENERS = new ConcurrentHashMap<>();

    private LoadProgress() {}

    /** The single native callback: looks the listener up by id and never lets an exception reach the engine. */
    private static final class Thunk extends dsv32_progress_fn {
        static final Thunk INSTANCE = new Thunk();

        @Override
        public void call(Pointer user, BytePointer stage, long done, long total) {
            Registration r = user == null ? null : LISTENERS.get(user.address());
            if (r != null) r.deliver(stage, done, total);
        }
    }

    /** An id-sized pointer value (never dereferenced by the engine: only passed back to the callback). */
    private static final class Id extends Pointer {
        Id(long id) {
            address = id;
        }
    }

    /** The registration of one open's listener; closing it unregisters it. Null for no listener. */
    static Registration register(LoadProgressListener listener, Path dir) {
        if (listener == null) return null;
        Registration r = new Registration(IDS.incrementAndGet(), listener, dir);
        LISTENERS.put(r.id, r);
        return r;
    }

    static final class Registration implements AutoCloseable {
        private final long id;
        private final LoadProgressListener listener;
        private final Path dir;
        private boolean failed; // the listener threw: not called again during this open

        private Registration(long id, LoadProgressListener listener, Path dir) {
            this.id = id;
            this.listener = listener;
            this.dir = dir;
        }

        dsv32_progress_fn function() {
            return Thunk.INSTANCE;
        }

        Pointer user() {
            return new Id(id);
        }

        void deliver(BytePointer stage, long done, long total) {
            if (failed) return;
            try {
                String s = stage == null || stage.isNull() ? "" : stage.getString(StandardCharsets.UTF_8);
                listener.onProgress(s, done, total);
            } catch (Throwable t) { // a listener bug must not reach native code or break the load
                failed = true;
                LOG.warn("load progress listener for {} threw; it is not called again during this load", dir, t);
            }
        }

        @Override
        public void close() {
            LISTENERS.remove(id);
        }
    }
}
