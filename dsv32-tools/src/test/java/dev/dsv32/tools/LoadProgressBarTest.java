package dev.dsv32.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

/** The load progress bar: one line redrawn with \r, only on change, cleared at the end. */
class LoadProgressBarTest {
    @Test
    void redrawsOneLineAndClearsIt() {
        StringWriter sw = new StringWriter();
        LoadProgressBar bar = new LoadProgressBar(new PrintWriter(sw), "loading m");
        bar.onProgress("map", 0, 4_000_000);
        bar.onProgress("map", 4_000_000, 4_000_000);
        bar.onProgress("map", 4_000_000, 4_000_000); // unchanged: not redrawn
        bar.onProgress("validate", 1_000_000, 2_000_000);
        String s = sw.toString();
        assertFalse(s.contains("\n"), s);
        String[] frames = s.split("\r", -1);
        assertEquals(4, frames.length, s); // "" then three distinct frames
        assertTrue(frames[1].startsWith("loading m: map      [........................]   0%  0.0/4.0 MB"), frames[1]);
        assertTrue(frames[2].startsWith("loading m: map      [########################] 100%  4.0/4.0 MB"), frames[2]);
        assertTrue(frames[3].startsWith("loading m: validate [############............]  50%  1.0/2.0 MB"), frames[3]);
        int width = frames[3].length();
        bar.finish();
        String cleared = sw.toString().substring(s.length());
        assertEquals("\r" + " ".repeat(width) + "\r", cleared);
        bar.finish(); // idempotent
        assertEquals(s + cleared, sw.toString());
    }

    @Test
    void outOfRangeValuesStayOnTheBar() {
        StringWriter sw = new StringWriter();
        LoadProgressBar bar = new LoadProgressBar(new PrintWriter(sw), "x");
        bar.onProgress("shard", 9, 4);
        bar.onProgress("shard", -1, 0);
        String s = sw.toString();
        assertTrue(s.contains("[########################] 100%"), s);
        assertFalse(s.contains("-"), s);
    }

    @Test
    void countsUnitsWhenGivenOne() {
        StringWriter sw = new StringWriter();
        LoadProgressBar bar = new LoadProgressBar(new PrintWriter(sw), "bench", "steps");
        bar.onProgress("decode b4 ctx1024", 8, 32);
        assertTrue(sw.toString().startsWith("\rbench: decode b4 ctx1024 [######..................]  25%  8/32 steps"), sw.toString());
    }
}
