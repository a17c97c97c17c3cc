package dev.dsv32.tokenizer;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Build step: compiles {@code tokenizer.json} into the compact form the bundled tokenizer loads at run time.
 * Usage: {@code TokenizerCompiler <tokenizer.json> <out.bin>}. Run by Maven in {@code process-classes}.
 */
public final class TokenizerCompiler {
    private TokenizerCompiler() {}

    public static void main(String[] args) throws IOException {
        if (args.length != 2) throw new IllegalArgumentException("usage: TokenizerCompiler <tokenizer.json> <out.bin>");
        Path in = Path.of(args[0]);
        Path out = Path.of(args[1]);
        TokenizerModel model;
        try (InputStream is = Files.newInputStream(in)) {
            model = TokenizerModel.fromJson(TokenizerLoader.read(is, in.toString()), in.toString());
        }
        Files.createDirectories(out.toAbsolutePath().getParent());
        Path tmp = Files.createTempFile(out.toAbsolutePath().getParent(), "tokenizer", ".tmp");
        try (OutputStream os = Files.newOutputStream(tmp)) {
            model.write(os);
        }
        Files.move(tmp, out, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }
}
