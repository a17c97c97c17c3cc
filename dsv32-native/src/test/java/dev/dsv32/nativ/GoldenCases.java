package dev.dsv32.nativ;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The golden cases of src/test/resources/golden/{tiny,tiny_mp2}/cases.json. */
record GoldenCases() {
    static final Path ROOT = Path.of("src", "test", "resources", "golden");

    /** One case: the checkpoint directory, model parallelism to run it with, ids [B][T], decode_from (-1: none). */
    record Case(Path dir, int mp, String name, int[][] tokens, int decodeFrom, int[] shape, Path f32) {
        @Override
        public String toString() {
            return dir.getFileName() + "/" + name;
        }
    }

    static List<Case> all() {
        List<Case> out = new ArrayList<>();
        out.addAll(load(ROOT.resolve("tiny"), 1));
        out.addAll(load(ROOT.resolve("tiny_mp2"), 2));
        return out;
    }

    static List<Case> load(Path dir, int mp) {
        Path file = dir.resolve("cases.json");
        if (!Files.isRegularFile(file)) return List.of();
        try {
            JsonNode root = new ObjectMapper().readTree(file.toFile());
            List<Case> out = new ArrayList<>();
            for (JsonNode c : root.get("cases")) {
                JsonNode toks = c.get("tokens");
                int[][] tokens = new int[toks.size()][];
                for (int b = 0; b < tokens.length; b++) {
                    tokens[b] = new int[toks.get(b).size()];
                    for (int t = 0; t < tokens[b].length; t++) tokens[b][t] = toks.get(b).get(t).intValue();
                }
                JsonNode df = c.get("decode_from");
                int[] shape = new int[c.get("shape").size()];
                for (int i = 0; i < shape.length; i++) shape[i] = c.get("shape").get(i).intValue();
                out.add(new Case(dir, mp, c.get("name").asText(), tokens, df == null || df.isNull() ? -1 : df.intValue(),
                        shape, dir.resolve(c.get("files").get("f32").asText())));
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
