package dev.dsv32.tools;

import dev.dsv32.nativ.LoadProgressListener;
import java.io.PrintWriter;
import java.util.Locale;

/**
 * A one-line progress bar for long operations on stderr (model loads, checkpoint generation, benchmark phases), redrawn
 * in place with {@code \r}: {@code loading tiny_mp2: validate [##########..........]  52%  2.5/4.8 MB}, or with a
 * count unit {@code bench: decode ctx1024 [######..] 75%  48/64 steps}. Only for terminals: {@link #forTerminal}
 * gives {@code null} when there is no console, so scripts that parse stdout and stderr see nothing of it.
 */
final class LoadProgressBar implements LoadProgressListener {
    private static final int WIDTH = 24;

    private final PrintWriter err;
    private final String label;
    private final String unit; // null: done/total are bytes, shown in MB
    private String last = "";
    private int shown; // length of the line on screen, 0 when none

    LoadProgressBar(PrintWriter err, String label) {
        this(err, label, null);
    }

    /** A bar counting {@code unit}s ({@code "steps"}, ...) instead of bytes; {@code unit == null} counts bytes. */
    LoadProgressBar(PrintWriter err, String label, String unit) {
        this.err = err;
        this.label = label;
        this.unit = unit;
    }

    /** A bar on {@code err} when the process has a console ({@code System.console() != null}), else {@code null}. */
    static LoadProgressBar forTerminal(PrintWriter err, String label) {
        return forTerminal(err, label, null);
    }

    /** {@link #forTerminal(PrintWriter, String)} counting {@code unit}s instead of bytes. */
    static LoadProgressBar forTerminal(PrintWriter err, String label, String unit) {
        return System.console() != null ? new LoadProgressBar(err, label, unit) : null;
    }

    @Override
    public void onProgress(String stage, long done, long total) {
        long d = Math.max(0, Math.min(done, total));
        int pct = total > 0 ? (int) (d * 100 / total) : 100;
        int fill = total > 0 ? (int) (d * WIDTH / total) : WIDTH;
        String line = String.format(Locale.ROOT, "%s: %-8s [%s%s] %3d%%  %s/%s", label, stage, "#".repeat(fill), ".".repeat(WIDTH - fill),
                pct, unit == null ? mb(d) : Long.toString(d), unit == null ? mb(total) + " MB" : Math.max(0, total) + " " + unit);
        if (line.equals(last)) return; // redraw only on change
        last = line;
        err.print("\r" + line + " ".repeat(Math.max(0, shown - line.length())));
        err.flush();
        shown = line.length();
    }

    /** Clears the line (the load is over, or failed): what follows starts at column 0 of an empty line. */
    void finish() {
        if (shown == 0) return;
        err.print("\r" + " ".repeat(shown) + "\r");
        err.flush();
        shown = 0;
        last = "";
    }

    private static String mb(long bytes) {
        return String.format(Locale.ROOT, "%.1f", bytes / 1e6);
    }
}
