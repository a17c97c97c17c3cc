package dev.dsv32.tools;

import dev.dsv32.api.Model;
import dev.dsv32.nativ.synth.SyntheticCheckpoint;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * The model options shared by {@code chat}, {@code generate} and {@code serve}: a checkpoint directory, or the
 * synthetic {@code tiny_chat} model (the default), and the engine's limits.
 */
final class ModelOptions {
    static final String TINY_CHAT = "tiny_chat";

    @Option(names = "--model", paramLabel = "DIR|tiny_chat", defaultValue = TINY_CHAT,
            description = "A Hugging Face checkpoint directory, or tiny_chat: the synthetic model with the real vocabulary and"
                    + " random weights, generated on first use into the cache (its output is random text). Default: ${DEFAULT-VALUE}")
    String model;

    @Option(names = "--max-sequences", paramLabel = "N", defaultValue = "16",
            description = "Sequences (running requests plus open sessions) at once (default: ${DEFAULT-VALUE})")
    int maxSequences;

    @Option(names = "--max-context", paramLabel = "TOKENS", defaultValue = "0",
            description = "Tokens per sequence, prompt plus completion (default: the checkpoint's, at most 4096)")
    int maxContext;

    @Option(names = "--threads", paramLabel = "N", defaultValue = "0", description = "Engine threads (default: all cores)")
    int threads;

    @Option(names = "--mp", paramLabel = "N", defaultValue = "1",
            description = "Model-parallel ranks (threads on CPU), split as convert.py splits the checkpoint; a directory written by"
                    + " dsv32 convert opens at the mp it was converted for (default: ${DEFAULT-VALUE})")
    int mp;

    boolean isTinyChat() {
        return TINY_CHAT.equals(model);
    }

    /** Opens the model; for tiny_chat, notes on {@code err} that its output is random text. */
    Model open(PrintWriter err) {
        if (mp < 1) throw new CliException("--mp " + mp + ": must be at least 1");
        Model.Builder b = Model.builder().maxSequences(maxSequences).threads(threads).modelParallel(mp);
        if (maxContext > 0) b.maxContext(maxContext);
        String label;
        if (isTinyChat()) {
            err.println("note: the default model is tiny_chat, a synthetic model with random weights: its output is random text."
                    + " Use --model DIR for a real checkpoint.");
            err.flush();
            Path dir;
            try {
                dir = SyntheticCheckpoint.defaultModel();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot generate the tiny_chat model: " + e.getMessage(), e);
            }
            b.path(dir);
            label = TINY_CHAT;
        } else {
            Path dir = Path.of(model);
            if (!Files.isDirectory(dir)) throw new CliException("--model: " + model + " is not a directory (give a checkpoint directory or tiny_chat)");
            b.path(dir);
            label = String.valueOf(dir.getFileName());
        }
        LoadProgressBar bar = LoadProgressBar.forTerminal(err, "loading " + label);
        if (bar != null) b.progress(bar);
        try {
            return b.build();
        } finally {
            if (bar != null) bar.finish();
        }
    }

    /** The name the model is served and reported under. */
    String name() {
        return isTinyChat() ? TINY_CHAT : String.valueOf(Path.of(model).toAbsolutePath().normalize().getFileName());
    }
}
