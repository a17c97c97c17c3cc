package dev.dsv32.bench;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import java.io.BufferedWriter;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The reference side of the whole-process comparison: {@code java -cp benchmarks.jar dev.dsv32.bench.HfTokenizeMain FILE}
 * prints the file's ids from the Hugging Face Rust tokenizer (DJL) in the format of {@code bin/dsv32 tokenize}, so the
 * two outputs can be compared with {@code cmp} and the two processes timed.
 */
public final class HfTokenizeMain {
    private HfTokenizeMain() {}

    public static void main(String[] args) throws Exception {
        String text = Files.readString(Path.of(args[0]), StandardCharsets.UTF_8);
        try (HuggingFaceTokenizer hf = TokenizerBench.hfRust()) {
            long[] ids = hf.encode(text, false, false).getIds();
            StringBuilder sb = new StringBuilder(ids.length * 8);
            sb.append('[');
            for (int i = 0; i < ids.length; i++) {
                if (i > 0) sb.append(", ");
                sb.append(ids[i]);
            }
            sb.append("]\n");
            Writer out = new BufferedWriter(new OutputStreamWriter(new FileOutputStream(FileDescriptor.out), StandardCharsets.US_ASCII));
            out.write(sb.toString());
            out.flush();
        }
    }
}
