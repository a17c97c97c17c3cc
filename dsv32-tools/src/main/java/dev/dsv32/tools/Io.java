package dev.dsv32.tools;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * UTF-8 in and out whatever the platform locale: files are read as bytes and decoded strictly as UTF-8, and output
 * goes through writers that encode UTF-8 explicitly (under {@code LANG=C} the JVM default would be ASCII).
 */
final class Io {
    private Io() {}

    /** The name a user gives for standard input. */
    static final String STDIN = "-";

    /** A UTF-8 writer over a byte stream; the caller flushes. */
    static PrintWriter utf8Writer(OutputStream out) {
        return new PrintWriter(new BufferedWriter(new OutputStreamWriter(out, StandardCharsets.UTF_8)), false);
    }

    /**
     * Reads a whole file (or standard input for {@code -}) as strict UTF-8.
     *
     * @param what what the file is, for messages ("messages file", "completion text")
     * @throws CliException naming the file when it cannot be read or is not UTF-8
     */
    static String readUtf8(String file, String what, InputStream stdin) {
        byte[] bytes;
        try {
            if (STDIN.equals(file)) {
                bytes = stdin.readAllBytes();
            } else {
                Path p = Path.of(file);
                if (Files.isDirectory(p)) throw new CliException(file + ": cannot read " + what + ": is a directory");
                bytes = Files.readAllBytes(p);
            }
        } catch (NoSuchFileException e) {
            throw new CliException(file + ": cannot read " + what + ": no such file", e);
        } catch (AccessDeniedException e) {
            throw new CliException(file + ": cannot read " + what + ": permission denied", e);
        } catch (IOException | java.nio.file.InvalidPathException e) {
            throw new CliException(file + ": cannot read " + what + ": " + e.getMessage(), e);
        }
        return decodeUtf8(bytes, file);
    }

    /** Strict UTF-8 decoding; the error names the file and the byte offset of the first bad sequence. */
    static String decodeUtf8(byte[] bytes, String file) {
        CharsetDecoder dec = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate(bytes.length);
        CoderResult r = dec.decode(in, out, true);
        if (r.isUnderflow()) r = dec.flush(out);
        if (r.isError()) {
            throw new CliException(file + ": not valid UTF-8 (bad byte sequence at byte offset " + in.position() + ")");
        }
        out.flip();
        return out.toString();
    }

    /**
     * The index of the first unpaired surrogate in {@code s} (text that cannot be written as UTF-8; JSON
     * {@code "\ud800"} escapes produce them), or -1.
     */
    static int firstUnpairedSurrogate(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c)) {
                if (i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                    i++;
                } else {
                    return i;
                }
            } else if (Character.isLowSurrogate(c)) {
                return i;
            }
        }
        return -1;
    }

    /** A JSON parser message without Jackson's source-description noise. */
    static String jsonMessage(String s) {
        return s == null ? "" : s.replaceAll("\\[Source: [^;\\]]*; ", "[");
    }

    /** Makes a message fit on one line. */
    static String oneLine(String s) {
        return s == null ? "" : s.replaceAll("\\s*[\\r\\n]+\\s*", " ").strip();
    }
}
