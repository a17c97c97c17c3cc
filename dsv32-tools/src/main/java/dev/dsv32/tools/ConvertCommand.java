package dev.dsv32.tools;

import dev.dsv32.nativ.CheckpointConverter;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code dsv32 convert}: pre-shards a Hugging Face checkpoint for {@code --mp N} into the official convert.py's per-rank
 * files (architecture.md §2.2), verified, through {@link CheckpointConverter}.
 */
@Command(name = "convert",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        description = {
            "Pre-shard a Hugging Face checkpoint for N model-parallel ranks: model{rank}-mpN.safetensors as the official",
            "convert.py writes them (its tensor names and per-rank slices, dtypes as stored: FP8 bytes and scales unchanged),",
            "config.json, the *token* files and dsv32-convert.json (mp, source files, each file's size and SHA-256).",
            "Every tensor is re-read and compared with the engine's own slice of the source, and every file with its",
            "checksum, before the files get their final names. Optional: the engine reads HF checkpoints directly;",
            "logits/generate/chat/serve --model OUT --mp N open the result, each rank reading its own file.",
            "On a terminal, a progress bar on stderr shows the bytes read, written and verified."
        })
final class ConvertCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, paramLabel = "DIR", description = "Hugging Face checkpoint directory (config.json, *.safetensors)")
    String model;

    @Option(names = "--mp", required = true, paramLabel = "N", description = "Model-parallel ranks: one output file per rank")
    int mp;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output directory (created; must be empty unless --force)")
    String out;

    @Option(names = "--threads", paramLabel = "T", defaultValue = "0", description = "Files written and verified at once (default: one per core)")
    int threads;

    @Option(names = "--force", description = "Write into a non-empty output directory, replacing its rank files, *.safetensors and manifest")
    boolean force;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        if (mp < 1 || mp > 1024) throw new CliException("--mp " + mp + ": must be in [1, 1024]");
        if (threads < 0) throw new CliException("--threads " + threads + ": must be at least 0");
        Path src = Path.of(model);
        if (!Files.isDirectory(src)) throw new CliException("--model: " + model + " is not a directory");
        if (!Files.isRegularFile(src.resolve("config.json"))) throw new CliException("--model: " + model + " has no config.json");
        Path dst = Path.of(out);
        if (Files.exists(dst)) {
            if (!Files.isDirectory(dst)) throw new CliException("--out: " + out + " exists and is not a directory");
            if (Files.isSameFile(src, dst)) throw new CliException("--out: " + out + " is the --model directory");
            if (!force) {
                try (Stream<Path> s = Files.list(dst)) {
                    if (s.findAny().isPresent()) throw new CliException("--out: " + out + ": directory is not empty (use --force to replace its checkpoint files)");
                }
            }
        } else {
            Path parent = dst.toAbsolutePath().getParent();
            if (parent != null) Files.createDirectories(parent);
        }
        PrintWriter err = spec.commandLine().getErr();
        LoadProgressBar bar = LoadProgressBar.forTerminal(err, "convert " + src.getFileName());
        CheckpointConverter.Options o = CheckpointConverter.Options.of(mp).withThreads(threads).withForce(force).withProgress(bar);
        CheckpointConverter.Result r;
        try {
            r = CheckpointConverter.convert(src, dst, o);
        } finally {
            if (bar != null) bar.finish();
        }
        spec.commandLine().getOut().printf(Locale.ROOT, "converted %s for mp=%d: %d files, %d tensors, %d bytes in %.1f s, %s -> %s%n", src,
                r.mp(), r.files(), r.tensors(), r.bytes(), r.elapsed().toNanos() / 1e9, r.verified() ? "verified" : "NOT verified", dst);
        return 0;
    }
}
