package dev.dsv32.tools;

import static dev.dsv32.tools.Dsv32CliTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code dsv32 bench report --quick} in-process on a generated tiny checkpoint: the Markdown and real PNG charts. */
class BenchReportCommandTest {
    @TempDir
    Path tmp;

    @Test
    void quickReportWritesMarkdownWithRatiosAndDecodablePngs() throws IOException {
        Path model = tmp.resolve("tiny");
        assertEquals(0, run("make-tiny", "--config", "tiny", "--seed", "1", "--out", model.toString()).status());
        Path out = tmp.resolve("perf/nested");
        Dsv32CliTest.Result r = run("bench", "report", "--model", model.toString(), "--quick", "--threads", "2", "--out", out.toString());
        assertEquals(0, r.status(), r.stderr());
        assertTrue(r.out().contains("wrote " + out.resolve("report.md")), r.out());
        String md = Files.readString(out.resolve("report.md"));
        for (String section : List.of("## Decode tokens/s vs context: DSA vs dense attention", "## Batch scaling",
                "## Prefill GFLOP/s vs the measured peak", "## Kernels on the model's shapes",
                "## CPU kernels vs the OpenBLAS baseline", "## Indexer, sparse attention and MoE kernels")) {
            assertTrue(md.contains(section), section + " missing:\n" + md);
        }
        for (String png : ReportCharts.FILES) {
            assertTrue(md.contains("(" + png + ")"), png + " not linked:\n" + md);
            BufferedImage img = ImageIO.read(out.resolve(png).toFile());
            assertNotNull(img, png + " is not a readable image");
            assertTrue(img.getWidth() >= 600 && img.getHeight() >= 400, png + " " + img.getWidth() + "x" + img.getHeight());
        }
        // decode rows: context 16..128 (tiny's top-k is 32), both modes positive, ratio column present
        List<String[]> decode = new ArrayList<>();
        boolean inDecode = false;
        for (String line : md.split("\n")) {
            if (line.startsWith("## ")) inDecode = line.startsWith("## Decode");
            if (inDecode && line.matches("\\| [0-9]+ \\|.*")) decode.add(line.split("\\|"));
        }
        assertEquals(4, decode.size(), md);
        // both engines open together: their steps interleaved at every context, and the report says so
        assertTrue(md.contains("The two engines' steps are interleaved at each context"), md);
        for (int ctx : new int[] {16, 32, 64, 128})
            assertTrue(r.stderr().contains("decode sparse and dense attention, steps interleaved, at context " + ctx), r.stderr());
        for (String[] c : decode) {
            assertTrue(Double.parseDouble(c[2].strip()) > 0 && Double.parseDouble(c[4].strip()) > 0, md);
            assertTrue(c[6].strip().endsWith("x"), md);
        }
        // kernel vs baseline rows: 6 layers x m = 1, 4, 16; our time positive; the ratio column filled exactly when
        // the baseline library is there, else the section says why it is unavailable
        List<String[]> base = rows(md, "## CPU kernels vs the OpenBLAS baseline");
        assertEquals(18, base.size(), md);
        boolean haveBlas = !md.contains("Baseline: unavailable");
        for (String[] c : base) {
            assertTrue(Double.parseDouble(c[4].strip().replace(" us", "")) > 0, String.join("|", c));
            assertEquals(haveBlas, c[10].strip().endsWith("x"), String.join("|", c));
        }
        assertEquals(6, rows(md, "## Indexer, sparse attention and MoE kernels").size(), md);
                double peak = Double.parseDouble(md.replaceAll("(?s).*measured peaks: \\*\\*([0-9.]+) GFLOP/s.*", "$1"));
        assertTrue(peak > 0.5, md);
        assertTrue(md.contains("| 4 | "), "batch 4 row:\n" + md);
    }

    @Test
    void badInputExitsTwoNamingTheOption() {
        Dsv32CliTest.Result r = run("bench", "report", "--quick", "--contexts", "0", "--out", tmp.toString());
        assertEquals(2, r.status());
        assertTrue(r.stderr().contains("--contexts 0"), r.stderr());
        r = run("bench", "report", "--model", tmp.resolve("none").toString(), "--quick", "--out", tmp.toString());
        assertEquals(2, r.status());
        assertTrue(r.stderr().contains("no such model directory"), r.stderr());
        r = run("bench", "report", "--quick", "--threads", "-1", "--out", tmp.toString());
        assertEquals(2, r.status());
    }

    /** The table rows (lines starting "| " and not the header) of the section with the given heading. */
    private static List<String[]> rows(String md, String heading) {
        List<String[]> rows = new ArrayList<>();
        boolean in = false, header = true;
        for (String line : md.split("\n")) {
            if (line.startsWith("## ")) {
                in = line.equals(heading);
                header = true;
            } else if (in && line.startsWith("|---")) {
                header = false;
            } else if (in && !header && line.startsWith("| ")) {
                rows.add(line.split("\\|"));
            }
        }
        return rows;
    }
}
