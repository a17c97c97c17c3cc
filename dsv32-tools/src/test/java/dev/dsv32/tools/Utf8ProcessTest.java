package dev.dsv32.tools;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Runs the real {@code main} in a child JVM under the C locale: files and stdout must still be UTF-8. */
class Utf8ProcessTest {
    @TempDir
    Path tmp;

    private record Outcome(int status, byte[] stdout, String stderr) {}

    private Outcome runMain(String... args) throws IOException, InterruptedException {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        List<String> cmd = new java.util.ArrayList<>(List.of(java.toString(),
                "-Dfile.encoding=ANSI_X3.4-1968", "-Dsun.stdout.encoding=ANSI_X3.4-1968", "-Dsun.stderr.encoding=ANSI_X3.4-1968",
                "-cp", System.getProperty("java.class.path"), Dsv32Cli.class.getName()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().put("LANG", "C");
        pb.environment().put("LC_ALL", "C");
        Path out = tmp.resolve("stdout");
        Path err = tmp.resolve("stderr");
        pb.redirectOutput(out.toFile()).redirectError(err.toFile());
        Process p = pb.start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "child JVM timed out");
        return new Outcome(p.exitValue(), Files.readAllBytes(out), Files.readString(err, UTF_8));
    }

    @Test
    void encodeWritesUtf8UnderTheCLocale() throws Exception {
        String content = "天气 ☔ naïve 😀";
        Path m = Files.write(tmp.resolve("m.json"),
                ("[{\"role\": \"user\", \"content\": \"" + content + "\"}]").getBytes(UTF_8));
        Outcome o = runMain("encode", "--messages", m.toString(), "--thinking-mode", "chat");
        assertEquals(0, o.status(), o.stderr());
        assertArrayEquals(("<｜begin▁of▁sentence｜><｜User｜>" + content + "<｜Assistant｜></think>").getBytes(UTF_8), o.stdout());
    }

    @Test
    void parseWritesUtf8AndErrorsExitTwoUnderTheCLocale() throws Exception {
        Path ok = Files.write(tmp.resolve("ok.txt"), "想想</think>好的 😀<｜end▁of▁sentence｜>".getBytes(UTF_8));
        Outcome o = runMain("parse", "--text-file", ok.toString());
        assertEquals(0, o.status(), o.stderr());
        String json = new String(o.stdout(), UTF_8);
        assertTrue(json.contains("\"content\":\"好的 😀\"") && json.contains("\"reasoning_content\":\"想想\""), json);

        Path bad = Files.write(tmp.resolve("bad.txt"), "no think end".getBytes(UTF_8));
        Outcome e = runMain("parse", "--text-file", bad.toString());
        assertEquals(2, e.status());
        assertEquals(0, e.stdout().length);
        assertTrue(e.stderr().contains("Invalid thinking format"), e.stderr());
    }
}
