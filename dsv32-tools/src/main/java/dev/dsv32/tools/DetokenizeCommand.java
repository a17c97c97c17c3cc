package dev.dsv32.tools;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.dsv32.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code dsv32 detokenize}: the text of a JSON array of DeepSeek-V3.2 token ids, exactly, with no trailing newline. */
@Command(name = "detokenize",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        description = {
            "Print the text of a JSON array of DeepSeek-V3.2 token ids.",
            "The text is printed exactly, as UTF-8 with no trailing newline; bytes that do not form valid UTF-8 become",
            "U+FFFD, as in the Hugging Face decoder."
        })
final class DetokenizeCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--ids-file", required = true, paramLabel = "FILE", description = "JSON array of token ids ('-' reads stdin)")
    String idsFile;

    @Option(names = "--skip-special-tokens", description = "Leave out special tokens (BOS, EOS, padding, placeholders)")
    boolean skipSpecial;

    private final InputStream stdin;

    DetokenizeCommand(InputStream stdin) {
        this.stdin = stdin;
    }

    @Override
    public Integer call() {
        int[] ids = readIds(Io.readUtf8(idsFile, "ids file", stdin), idsFile);
        String text = Tokenizer.v32().decode(ids, skipSpecial);
        spec.commandLine().getOut().print(text);
        return 0;
    }

    /** Reads a JSON array of integers; errors name the file and the element. */
    static int[] readIds(String json, String file) {
        int[] ids = new int[Math.max(16, json.length() / 4)];
        int n = 0;
        try (JsonParser p = new JsonFactory().createParser(json)) {
            if (p.nextToken() != JsonToken.START_ARRAY) throw new CliException(file + ": expected a JSON array of token ids");
            for (JsonToken t = p.nextToken(); t != JsonToken.END_ARRAY; t = p.nextToken()) {
                if (t == null) throw new CliException(file + ": unterminated JSON array");
                if (t != JsonToken.VALUE_NUMBER_INT || p.getNumberType() != JsonParser.NumberType.INT) {
                    throw new CliException(file + ": element " + n + " is not a token id: " + p.getText());
                }
                if (n == ids.length) ids = Arrays.copyOf(ids, n * 2);
                ids[n++] = p.getIntValue();
            }
            if (p.nextToken() != null) throw new CliException(file + ": unexpected content after the JSON array");
        } catch (IOException e) {
            throw new CliException(file + ": not valid JSON: " + Io.oneLine(Io.jsonMessage(e.getMessage())), e);
        }
        return Arrays.copyOf(ids, n);
    }
}
