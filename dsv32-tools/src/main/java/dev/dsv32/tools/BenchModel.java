package dev.dsv32.tools;

import com.fasterxml.jackson.databind.JsonNode;
import dev.dsv32.nativ.synth.SynthConfig;
import dev.dsv32.nativ.synth.SyntheticCheckpoint;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * The checkpoint a benchmark command runs on ({@code bench}, {@code bench report}): a directory given with {@code --model},
 * or a synthetic {@code --config} model from the cache (generated on first use, with a progress bar on a terminal; default
 * {@code mini}, {@code tiny} with {@code --quick}). Checks the options and the directory's {@code config.json}.
 */
record BenchModel(Path dir, String name, JsonNode config) {
    static BenchModel resolve(String model, String configName, boolean quick, long seed, PrintWriter err, String command)
            throws IOException {
        Path dir;
        String name;
        if (model != null) {
            if (configName != null) throw new CliException("give --model or --config, not both");
            dir = Path.of(model);
            if (!Files.isDirectory(dir)) throw new CliException(model + ": no such model directory");
            name = dir.getFileName().toString();
        } else {
            SynthConfig c = SynthConfig.of(configName != null ? configName : quick ? "tiny" : "mini");
            long t0 = System.nanoTime();
            Path cached = SyntheticCheckpoint.cacheRoot().resolve("models").resolve(c.id + "-seed" + seed);
            boolean existed = Files.isRegularFile(cached.resolve(SyntheticCheckpoint.WEIGHTS_FILE));
            LoadProgressBar gen = existed ? null : LoadProgressBar.forTerminal(err, "generating " + c.id);
            try {
                dir = SyntheticCheckpoint.cached(c, seed, gen);
            } finally {
                if (gen != null) gen.finish();
            }
            if (!existed) {
                err.printf(Locale.ROOT, "%s: generated %s in %.1f s%n", command, dir, (System.nanoTime() - t0) / 1e9);
                err.flush();
            }
            name = c.id + " (seed " + seed + ")";
        }
        Path cfgFile = dir.resolve("config.json");
        if (!Files.isRegularFile(cfgFile)) throw new CliException(dir + ": no config.json");
        return new BenchModel(dir, name, Json.MAPPER.readTree(cfgFile.toFile()));
    }
}
