package dev.dsv32.samples.agent;

import dev.dsv32.api.tools.Param;
import dev.dsv32.api.tools.Tool;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/** Read-only access to the files under one root directory; a path that leads outside it is refused. */
public final class FileTools {
    /** Characters of a file the model gets at most. */
    static final int MAX_CHARS = 8000;

    private final Path root;

    public FileTools(Path root) {
        this.root = root.toAbsolutePath().normalize();
        if (!Files.isDirectory(this.root)) throw new IllegalArgumentException("the files root " + this.root + " is not a directory");
    }

    @Tool("Lists the files and directories in a directory (relative to the workspace root); directories end with /")
    public List<String> list_files(@Param(value = "the directory; default the root", required = false) Optional<String> directory) {
        Path dir = resolve(directory.orElse("."));
        if (!Files.isDirectory(dir)) throw new IllegalArgumentException(directory.orElse(".") + " is not a directory");
        try (Stream<Path> s = Files.list(dir)) {
            List<String> out = new ArrayList<>();
            s.sorted().forEach(p -> out.add(root.relativize(p) + (Files.isDirectory(p) ? "/" : "")));
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + directory.orElse(".") + ": " + e.getMessage(), e);
        }
    }

    @Tool("Reads a text file (relative to the workspace root); long files are cut at 8000 characters")
    public String read_file(@Param("the file's path") String path) {
        Path f = resolve(path);
        if (!Files.isRegularFile(f)) throw new IllegalArgumentException(path + " is not a file");
        try {
            String text = Files.readString(f, StandardCharsets.UTF_8);
            return text.length() <= MAX_CHARS ? text : text.substring(0, MAX_CHARS) + "\n[... cut: " + text.length() + " characters in all]";
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + path + ": " + e.getMessage(), e);
        }
    }

    private Path resolve(String relative) {
        Path p = root.resolve(relative).normalize();
        if (!p.startsWith(root)) throw new IllegalArgumentException(relative + " is outside the workspace root");
        try { // a link inside the root may lead outside it
            if (Files.exists(p) && !p.toRealPath().startsWith(root.toRealPath())) {
                throw new IllegalArgumentException(relative + " leads outside the workspace root");
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot resolve " + relative + ": " + e.getMessage(), e);
        }
        return p;
    }
}
