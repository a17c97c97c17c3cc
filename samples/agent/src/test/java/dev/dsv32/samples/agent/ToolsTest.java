package dev.dsv32.samples.agent;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The sample's tools on their own. */
class ToolsTest {
    @Test
    void arithmeticFollowsPrecedenceAndNamesErrors() {
        CalculatorTools c = new CalculatorTools();
        assertEquals("14", c.calculate("2 + 3 * 4"));
        assertEquals("20", c.calculate("(2 + 3) * 4"));
        assertEquals("512", c.calculate("2 ^ 3 ^ 2"), "^ is right-associative");
        assertEquals("-1.5", c.calculate("-3 / 2"));
        assertEquals("1", c.calculate("7 % 3"));
        assertEquals("12", c.calculate("sqrt(144)"));
        assertEquals("0.3", c.calculate("0.1 + 0.2").substring(0, 3));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> c.calculate("1 / 0")).getMessage().startsWith("division by zero"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> c.calculate("(1 + 2")).getMessage().startsWith("missing ')'"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> c.calculate("2 + x")).getMessage().startsWith("unexpected 'x' at position 4"));
        assertThrows(IllegalArgumentException.class, () -> c.calculate(" "));
    }

    @Test
    void filesStayInsideTheRoot(@TempDir Path root) throws Exception {
        Files.writeString(root.resolve("a.txt"), "hello");
        Files.createDirectories(root.resolve("sub"));
        Files.writeString(root.resolve("sub/b.txt"), "x".repeat(FileTools.MAX_CHARS + 5));
        FileTools f = new FileTools(root);
        assertEquals(List.of("a.txt", "sub/"), f.list_files(Optional.empty()));
        assertEquals(List.of("sub/b.txt"), f.list_files(Optional.of("sub")));
        assertEquals("hello", f.read_file("a.txt"));
        assertTrue(f.read_file("sub/b.txt").endsWith("[... cut: " + (FileTools.MAX_CHARS + 5) + " characters in all]"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> f.read_file("../etc/passwd")).getMessage().contains("outside the workspace root"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> f.read_file("missing.txt")).getMessage().contains("is not a file"));
        Files.createSymbolicLink(root.resolve("escape"), Path.of("/"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> f.list_files(Optional.of("escape"))).getMessage().contains("leads outside"));
    }

    @Test
    void theClockUsesTheZone() {
        ClockTools c = new ClockTools(Clock.fixed(Instant.parse("2026-12-04T23:00:00Z"), ZoneOffset.UTC));
        assertEquals("2026-12-04T23:00:00Z (FRIDAY, UTC)", c.now(Optional.empty()));
        assertEquals("2026-12-05T08:00:00+09:00 (SATURDAY, Asia/Tokyo)", c.now(Optional.of("Asia/Tokyo")));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> c.now(Optional.of("Mars/Olympus"))).getMessage().contains("unknown time zone"));
    }
}
