package dev.dsv32.tools;

import dev.dsv32.nativ.synth.SynthConfig;
import dev.dsv32.nativ.synth.SyntheticCheckpoint;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code dsv32 make-tiny}: a synthetic Hugging Face checkpoint (architecture.md §16.2) from a config and a seed. */
@Command(name = "make-tiny",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        description = {
            "Write a synthetic DeepSeek-V3.2 checkpoint in Hugging Face format: config.json and model.safetensors",
            "(FP8 e4m3 projections with 128x128 f32 block scales, bf16 embedding/head/gate, f32 norms), random weights",
            "drawn per architecture.md §16.2. The same config and seed always give the same bytes.",
            "Sizes: tiny 2.7 MB, tiny_mp2 4.8 MB, tiny_chat 69 MB (real vocabulary), mini 975 MB.",
            "On a terminal, a progress bar on stderr shows the bytes written."
        })
final class MakeTinyCommand implements Callable<Integer> {
    @Option(names = "--config", paramLabel = "NAME", defaultValue = "tiny", completionCandidates = ConfigCandidates.class,
            description = "tiny, tiny_mp2, tiny_chat or mini (default: ${DEFAULT-VALUE})")
    String config;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "1", description = "Random seed (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output directory (must not exist, or be empty)")
    String out;

    @Option(names = "--threads", paramLabel = "N", defaultValue = "0", description = "Generator threads (default: one per core)")
    int threads;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        SynthConfig c = SynthConfig.of(config);
        if (threads < 0) throw new CliException("--threads " + threads + ": must be at least 0");
        Path dir = Path.of(out).toAbsolutePath();
        if (Files.exists(dir)) {
            if (!Files.isDirectory(dir)) throw new CliException(out + ": exists and is not a directory");
            try (Stream<Path> s = Files.list(dir)) {
                if (s.findAny().isPresent()) throw new CliException(out + ": directory is not empty");
            }
        }
        Path parent = dir.getParent();
        Files.createDirectories(parent);
        SyntheticCheckpoint ck = new SyntheticCheckpoint(c, seed);
        long t0 = System.nanoTime();
        // into a temporary sibling, then renamed: an interrupted run leaves no half-written checkpoint at DIR
        Path tmp = Files.createTempDirectory(parent, "." + dir.getFileName() + ".tmp-");
        LoadProgressBar bar = LoadProgressBar.forTerminal(spec.commandLine().getErr(), "make-tiny " + c.id);
        try {
            try {
                ck.writeTo(tmp, threads, bar);
            } finally {
                if (bar != null) bar.finish();
            }
            try {
                Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x")); // not the temp dir's 0700
            } catch (UnsupportedOperationException e) {
                // not POSIX
            }
            Files.deleteIfExists(dir); // empty, checked above
            Files.move(tmp, dir);
        } finally {
            deleteRecursively(tmp);
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        PrintWriter w = spec.commandLine().getOut();
        w.printf(Locale.ROOT, "%s seed=%d: %d tensors, %d params, %d bytes in %.1f s -> %s%n", c.id, seed,
                ck.tensors().size(), c.parameters(), ck.fileSize(), secs, dir);
        return 0;
    }

    static void deleteRecursively(Path p) throws IOException {
        if (!Files.exists(p)) return;
        try (Stream<Path> s = Files.walk(p)) {
            for (Path q : (Iterable<Path>) s.sorted(Comparator.reverseOrder())::iterator) Files.deleteIfExists(q);
        }
    }

    static final class ConfigCandidates implements Iterable<String> {
        @Override
        public Iterator<String> iterator() {
            return List.of("tiny", "tiny_mp2", "tiny_chat", "mini").iterator();
        }
    }
}
