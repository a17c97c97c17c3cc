package dev.dsv32.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The tokenizer benchmark corpus: about 2 MB each of English prose, Chinese and Japanese prose, and Python code,
 * shuffled by document with a fixed seed. Built by {@code benchmarks/corpus.sh} from Debian packages extracted under
 * a root directory; never committed (the texts keep their own licences).
 */
public final class Corpus {
    private Corpus() {}

    static final String DEFAULT = "benchmarks/target/corpus/corpus.txt";
    private static final int PER_KIND = 2_000_000;
    private static final Pattern TAGS = Pattern.compile("<[^>]*>");

    /** {@code Corpus <extracted-debs-root> <out.txt>}: writes the corpus and a manifest beside it. */
    public static void main(String[] args) throws IOException {
        Path root = Path.of(args[0]);
        Path out = Path.of(args[1]);
        Path ref = root.resolve("usr/share/debian-reference");
        List<String> docs = new ArrayList<>();
        StringBuilder manifest = new StringBuilder();
        for (String[] kind : new String[][] {{"English", ".en.html"}, {"Chinese", ".zh-cn.html"}, {"Japanese", ".ja.html"}}) {
            int budget = kind[0].equals("English") ? PER_KIND : PER_KIND / 2 + 200_000;
            add(docs, manifest, kind[0], files(ref, kind[1]), true, budget);
        }
        add(docs, manifest, "Python code", files(root.resolve("usr/lib/python3.11"), ".py"), false, PER_KIND);
        Collections.shuffle(docs, new Random(42));
        String text = String.join("\n", docs);
        Files.writeString(out, text, StandardCharsets.UTF_8);
        int bytes = text.getBytes(StandardCharsets.UTF_8).length;
        manifest.append(String.format(Locale.ROOT, "total: %,d bytes, %,d chars, %d documents%n", bytes, text.length(), docs.size()));
        Files.writeString(Path.of(out + ".manifest"), manifest.toString(), StandardCharsets.UTF_8);
        System.out.print(manifest);
        if (bytes < 5_000_000) throw new IllegalStateException("corpus is only " + bytes + " bytes (need 5 MB)");
    }

    private static List<Path> files(Path dir, String suffix) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(p -> p.toString().endsWith(suffix) && Files.isRegularFile(p)).sorted().collect(Collectors.toList());
        }
    }

    private static void add(List<String> docs, StringBuilder manifest, String kind, List<Path> files, boolean html, int budget)
            throws IOException {
        int total = 0;
        int n = 0;
        for (Path f : files) {
            if (total >= budget) break;
            String t = Files.readString(f, StandardCharsets.UTF_8);
            if (html) t = TAGS.matcher(t).replaceAll("").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&");
            docs.add(t);
            total += t.getBytes(StandardCharsets.UTF_8).length;
            n++;
        }
        manifest.append(String.format(Locale.ROOT, "%s: %,d bytes from %d files%n", kind, total, n));
    }

    /** Reads the corpus (run corpus.sh first). */
    static String load(String file) {
        try {
            return Files.readString(Inputs.resolve(file), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("no corpus at " + file + ": run benchmarks/corpus.sh first", e);
        }
    }

    /** Newline-aligned chunks of at most {@code max} chars (a chunk without a newline is cut at {@code max}). */
    static List<String> chunks(String text, int max) {
        List<String> out = new ArrayList<>();
        int i = 0;
        while (i < text.length()) {
            int end = Math.min(text.length(), i + max);
            if (end < text.length()) {
                int nl = text.lastIndexOf('\n', end - 1);
                if (nl >= i) end = nl + 1;
                if (Character.isHighSurrogate(text.charAt(end - 1))) end--;
            }
            out.add(text.substring(i, end));
            i = end;
        }
        return out;
    }
}
