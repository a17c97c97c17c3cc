package dev.dsv32.tools;

import java.io.InputStream;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * Class-loading workout for the AppCDS archive: when {@code bin/dsv32} creates the archive it sets
 * {@value #PROPERTY}{@code =true}, and after the user's command {@link Dsv32Cli#main} runs every command once more,
 * silently, so the archive holds the classes of all of them. Prints nothing, never fails.
 */
final class Warmup {
    static final String PROPERTY = "dsv32.cds.training";

    private Warmup() {}

    static void run() {
        Path dir = null;
        try {
            dir = Files.createTempDirectory("dsv32-cds");
            Path messages = write(dir, "messages.json", SampleConversation.messagesJson());
            Path completion = write(dir, "completion.txt", SampleConversation.toolCallCompletion());
            Path malformed = write(dir, "malformed.txt", SampleConversation.malformedCompletion());
            Path tools = write(dir, "tools.json", Json.compact(Json.MAPPER.valueToTree(SampleConversation.toolsJson())));
            Path bad = write(dir, "bad.json", "[{\"role\": \"user\"");
            Path ids = write(dir, "ids.json", "[0, 128803, 33310, 128804]");
            String[][] commands = {
                {"encode", "--messages", messages.toString()},
                {"encode", "--messages", messages.toString(), "--thinking-mode", "chat", "--bos", "false"},
                {"encode", "--messages", bad.toString()},
                {"encode", "--messages", messages.toString(), "--variant", "speciale"},
                {"parse", "--text-file", completion.toString()},
                {"parse", "--text-file", malformed.toString()},
                {"parse", "--lenient", "--tools", tools.toString(), "--text-file", malformed.toString()},
                {"parse", "--lenient", "--pretty", "--text-file", completion.toString()},
                {"tokenize", "--text-file", completion.toString()},
                {"tokenize", "--count", "--text-file", completion.toString()},
                {"detokenize", "--ids-file", ids.toString()},
                // logits without a model: the command's own classes only (no native library is loaded)
                {"logits", "--model", dir.resolve("no-model").toString(), "--ids-file", ids.toString(),
                    "--out", dir.resolve("logits.npy").toString()},
                {"make-tiny", "--help"},
                {"convert", "--help"},
                {"chat", "--help"},
                {"generate", "--help"},
                {"serve", "--help"},
                {"bench", "--help"},
                {"bench", "report", "--help"},
                {"demo"},
                {"--help"},
                {"--version"},
                {"encode", "--bos", "maybe"},
            };
            for (String[] args : commands) {
                PrintWriter sink = new PrintWriter(Writer.nullWriter());
                Dsv32Cli.run(sink, sink, InputStream.nullInputStream(), args);
            }
        } catch (Throwable ignored) {
            // A workout only: the archive is still valid with fewer classes.
        } finally {
            if (dir != null) deleteQuietly(dir);
        }
    }

    private static Path write(Path dir, String name, String text) throws java.io.IOException {
        return Files.write(dir.resolve(name), text.getBytes(StandardCharsets.UTF_8));
    }

    private static void deleteQuietly(Path dir) {
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (Exception ignored) {
            // best effort
        }
    }
}
