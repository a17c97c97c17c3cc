package dev.dsv32.nativ;

import dev.dsv32.nativ.jni.Dsv32Native;
import dev.dsv32.nativ.jni.Dsv32Native.dsv32_convert_options;
import dev.dsv32.nativ.jni.Dsv32Native.dsv32_convert_result;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import org.bytedeco.javacpp.BytePointer;

/**
 * Pre-shards a Hugging Face checkpoint for {@code mp} model-parallel ranks ({@code dsv32_convert}): the per-rank files
 * {@code model{rank}-mp{mp}.safetensors} of the official convert.py (its tensor names and slices; dtypes as stored, FP8
 * bytes and scales unchanged), config.json, the {@code *token*} files and a manifest ({@code dsv32-convert.json}: mp,
 * the source files, each output file's size and SHA-256). Every written tensor is re-read and compared with the engine's
 * own slice of the source, and every file with its checksum, before the files get their final names.
 * {@link NativeModel#open} opens the result at the same mp, each rank reading its own file. Optional: the engine reads
 * Hugging Face checkpoints directly.
 */
public final class CheckpointConverter {
    private CheckpointConverter() {}

    /**
     * @param mp model-parallel ranks (files), at least 1; every split dimension of the checkpoint must divide by it
     * @param threads files written and verified at once; 0 = one per core
     * @param force the output directory may hold files: its rank files, *.safetensors and manifest are replaced
     * @param progress called on the converting thread; {@code null} for none (see {@link LoadProgressListener})
     */
    public record Options(int mp, int threads, boolean force, LoadProgressListener progress) {
        public Options {
            if (mp < 1 || mp > 1024) throw new IllegalArgumentException("mp must be in [1, 1024], got " + mp);
            if (threads < 0) throw new IllegalArgumentException("threads must be >= 0, got " + threads);
        }

        /** For {@code mp} ranks, one thread per core, an empty output directory, no progress. */
        public static Options of(int mp) {
            return new Options(mp, 0, false, null);
        }

        public Options withThreads(int n) {
            return new Options(mp, n, force, progress);
        }

        public Options withForce(boolean f) {
            return new Options(mp, threads, f, progress);
        }

        public Options withProgress(LoadProgressListener listener) {
            return new Options(mp, threads, force, listener);
        }
    }

    /**
     * What a convert wrote.
     *
     * @param out the output directory
     * @param mp the ranks it was converted for
     * @param files rank files written (= mp)
     * @param tensors tensors in them, all ranks together
     * @param bytes bytes of the rank files
     * @param verified every tensor and checksum was verified
     * @param elapsed wall time
     */
    public record Result(Path out, int mp, int files, long tensors, long bytes, boolean verified, Duration elapsed) {}

    /**
     * Converts the checkpoint in {@code src} into {@code out} (created if missing).
     *
     * @throws NativeException {@link NativeException.Status#INVALID_ARGUMENT} for an mp the checkpoint cannot be split
     *     for, a missing source, an output directory that is not empty (without force) or is the source; a
     *     {@link CheckpointException} for a bad source or a failed write or verification, naming the file and tensor
     */
    public static Result convert(Path src, Path out, Options options) {
        Objects.requireNonNull(src, "src");
        Objects.requireNonNull(out, "out");
        Objects.requireNonNull(options, "options");
        if (!Files.isDirectory(src)) throw new CheckpointException(src + ": not a checkpoint directory");
        long t0 = System.nanoTime();
        try (dsv32_convert_options o = new dsv32_convert_options();
             dsv32_convert_result r = new dsv32_convert_result();
             BytePointer s = new BytePointer(src.toString(), StandardCharsets.UTF_8);
             BytePointer d = new BytePointer(out.toString(), StandardCharsets.UTF_8);
             LoadProgress.Registration progress = LoadProgress.register(options.progress(), src)) {
            o.mp(options.mp()).n_threads(options.threads()).force(options.force() ? 1 : 0);
            if (progress != null) o.progress(progress.function()).progress_user(progress.user());
            int rc = Dsv32Native.dsv32_convert(s, d, o, r);
            if (rc != Dsv32Native.DSV32_OK) throw NativeModel.error(rc, "converting " + src);
            return new Result(out, options.mp(), r.files(), r.tensors(), r.bytes(), r.verified() != 0,
                    Duration.ofNanos(System.nanoTime() - t0));
        }
    }
}
