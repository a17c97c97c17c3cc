package dev.dsv32.encoding;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/** Test resources under {@code src/test/resources/official/} (byte-exact copies of the official vectors). */
final class Fixtures {
    private Fixtures() {}

    static String text(String name) {
        try (InputStream in = Fixtures.class.getResourceAsStream("/official/" + name)) {
            if (in == null) throw new IllegalStateException("missing test resource official/" + name);
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static JsonNode json(String name) {
        return PythonJson.loads(text(name));
    }

    /** Python's {@code str.strip()} for the gold files (they end with at most one newline). */
    static String strip(String s) {
        int b = 0, e = s.length();
        while (b < e && Character.isWhitespace(s.charAt(b))) b++;
        while (e > b && Character.isWhitespace(s.charAt(e - 1))) e--;
        return s.substring(b, e);
    }
}
