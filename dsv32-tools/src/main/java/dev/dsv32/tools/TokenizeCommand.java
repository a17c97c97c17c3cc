package dev.dsv32.tools;

import dev.dsv32.tokenizer.Tokenizer;
import java.io.InputStream;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code dsv32 tokenize}: the DeepSeek-V3.2 token ids of a UTF-8 text file, as a JSON array (no BOS added). */
@Command(name = "tokenize",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        description = {
            "Print the DeepSeek-V3.2 token ids of a text as a JSON array.",
            "The ids are exactly the Hugging Face tokenizer's. No BOS is added: special tokens written in the text, such as",
            "<｜begin▁of▁sentence｜>, become their ids."
        })
final class TokenizeCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--text-file", required = true, paramLabel = "FILE", description = "UTF-8 text to tokenize ('-' reads stdin)")
    String textFile;

    @Option(names = "--count", description = "Print only the number of tokens")
    boolean count;

    private final InputStream stdin;

    TokenizeCommand(InputStream stdin) {
        this.stdin = stdin;
    }

    @Override
    public Integer call() {
        String text = Io.readUtf8(textFile, "text file", stdin);
        int[] ids = Tokenizer.v32().encode(text);
        PrintWriter out = spec.commandLine().getOut();
        if (count) {
            out.println(ids.length);
            return 0;
        }
        StringBuilder sb = new StringBuilder(ids.length * 8 + 2);
        sb.append('[');
        for (int i = 0; i < ids.length; i++) {
            if (i > 0) sb.append(", ");
            sb.append(ids[i]);
        }
        sb.append(']');
        out.println(sb);
        return 0;
    }
}
