package dev.dsv32.tools;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.dsv32.nativ.BatchEntry;
import dev.dsv32.nativ.NativeBackend;
import dev.dsv32.nativ.NativeModel;
import dev.dsv32.nativ.NativeOptions;
import dev.dsv32.nativ.NativeSequence;
import dev.dsv32.nativ.Numerics;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.TypeConversionException;

/**
 * {@code dsv32 logits}: the logits of every position of some token ids, computed by the native engine, written as a
 * little-endian float32 .npy file (format 1.0, C order): {@code [T, vocab]} for a flat JSON array of ids,
 * {@code [B, T, vocab]} for an array of B equal-length arrays.
 */
@Command(name = "logits",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        description = {
            "Run token ids through the native DeepSeek-V3.2 engine and write the logits of every position as .npy.",
            "A flat JSON array of ids gives [T, vocab]; an array of equal-length arrays is a batch and gives [B, T, vocab].",
            "Without --decode-from all T tokens are one prefill (in chunks of --prefill-chunk tokens if given); with",
            "--decode-from N the first N tokens are a prefill and the rest go one at a time through the decode path."
        })
final class LogitsCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, paramLabel = "DIR", description = "Hugging Face checkpoint directory (config.json, *.safetensors), or one written by dsv32 convert (give its --mp)")
    String model;

    @Option(names = "--ids-file", required = true, paramLabel = "FILE",
            description = "JSON array of token ids, or array of equal-length arrays (a batch); '-' reads stdin")
    String idsFile;

    @Option(names = "--decode-from", paramLabel = "N", description = "Prefill the first N tokens, then decode the rest one token at a time (teacher forced)")
    Integer decodeFrom;

    @Option(names = "--prefill-chunk", paramLabel = "C", description = "Prefill in chunks of C tokens, each continuing from the cache")
    Integer prefillChunk;

    @Option(names = "--mp", paramLabel = "N", defaultValue = "1",
            description = "Model-parallel ranks, threads sharing the cores; the weights are split as convert.py splits them (default: ${DEFAULT-VALUE})")
    int mp;

    @Option(names = "--numerics", paramLabel = "MODE", converter = NumericsConverter.class,
            completionCandidates = NumericsCandidates.class, description = "f32 or fp8 (default: the model's)")
    Numerics numerics;

    @Option(names = "--backend", paramLabel = "NAME", defaultValue = "cpu",
            description = "Compute backend: cpu, cuda (one NVIDIA GPU; an error saying why when this build or machine has none), "
                    + "hip (one AMD GPU through libdsv32_hip.so; likewise) "
                    + "or auto (cuda when available, else cpu) (default: ${DEFAULT-VALUE})")
    String backend;

    @Option(names = "--out", required = true, paramLabel = "OUT.npy", description = "Output .npy file (float32, little-endian)")
    String out;

    @Spec
    CommandSpec spec;

    private final InputStream stdin;

    LogitsCommand(InputStream stdin) {
        this.stdin = stdin;
    }

    @Override
    public Integer call() throws IOException {
        NativeBackend nativeBackend = switch (backend) {
            case "cpu" -> NativeBackend.CPU;
            case "cuda" -> NativeBackend.CUDA;
            case "auto" -> NativeBackend.AUTO;
            case "hip" -> NativeBackend.HIP;
            default -> throw new CliException("--backend " + backend + ": expected cpu, cuda, hip or auto");
        };
        if (mp < 1) throw new CliException("--mp " + mp + ": must be at least 1");
        if (prefillChunk != null && prefillChunk < 1) throw new CliException("--prefill-chunk " + prefillChunk + ": must be at least 1");
        if (decodeFrom != null && decodeFrom < 0) throw new CliException("--decode-from " + decodeFrom + ": must be at least 0");

        Ids ids = readIds(Io.readUtf8(idsFile, "ids file", stdin), idsFile);
        int b = ids.rows().length, t = ids.rows()[0].length;
        if (decodeFrom != null && decodeFrom > t) {
            throw new CliException("--decode-from " + decodeFrom + ": beyond the " + t + " ids of each row of " + idsFile);
        }
        Path dir = Path.of(model);
        if (!Files.exists(dir)) throw new CliException(model + ": no such model directory");
        if (!Files.isDirectory(dir)) throw new CliException(model + ": model is not a directory");
        Path outPath = Path.of(out);
        if (Files.isDirectory(outPath)) throw new CliException(out + ": cannot write the output: is a directory");

        LoadProgressBar bar = LoadProgressBar.forTerminal(spec.commandLine().getErr(), "loading " + dir.getFileName());
        NativeOptions options = NativeOptions.defaults()
                .withNumerics(numerics == null ? Numerics.DEFAULT : numerics)
                .withMp(mp)
                .withMaxSeqLen(t)
                .withMaxSequences(Math.max(b, 1))
                .withBackend(nativeBackend)
                .withProgress(bar);
        NativeModel opened;
        try {
            opened = NativeModel.open(dir, options);
        } finally {
            if (bar != null) bar.finish();
        }
        try (NativeModel m = opened) {
            int vocab = m.info().vocabSize();
            for (int r = 0; r < b; r++) {
                for (int i = 0; i < t; i++) {
                    int id = ids.rows()[r][i];
                    if (id >= vocab) {
                        throw new CliException(idsFile + ": " + ids.where(r, i) + ": id " + id
                                + " is out of the vocabulary range [0, " + vocab + ") of " + model);
                    }
                }
            }
            try {
                run(m, ids, vocab, outPath);
            } catch (RuntimeException e) {
                Files.deleteIfExists(outPath); // no partial output
                throw e;
            }
        }
        return 0;
    }

    private void run(NativeModel m, Ids ids, int vocab, Path outPath) {
        int b = ids.rows().length, t = ids.rows()[0].length;
        int prefill = decodeFrom == null ? t : decodeFrom;
        int chunk = prefillChunk == null ? Integer.MAX_VALUE : prefillChunk;
        int[] shape = ids.batch() ? new int[] {b, t, vocab} : new int[] {t, vocab};
        byte[] header = Npy.header(shape);
        try (FileChannel ch = FileChannel.open(outPath, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            writeFully(ch, ByteBuffer.wrap(header), 0);
            List<NativeSequence> seqs = new ArrayList<>(b);
            for (int r = 0; r < b; r++) seqs.add(m.openSequence());
            int pos = 0;
            while (pos < t) {
                int n = pos < prefill ? Math.min(chunk, prefill - pos) : 1;
                List<BatchEntry> batch = new ArrayList<>(b);
                for (int r = 0; r < b; r++) batch.add(BatchEntry.of(seqs.get(r), Arrays.copyOfRange(ids.rows()[r], pos, pos + n)));
                float[] logits = m.forward(batch);
                // Step rows are [b][n][vocab]; in the file, row r of the batch starts at r * t * vocab.
                ByteBuffer bytes = ByteBuffer.allocate(n * vocab * 4).order(ByteOrder.LITTLE_ENDIAN);
                for (int r = 0; r < b; r++) {
                    bytes.clear();
                    bytes.asFloatBuffer().put(logits, r * n * vocab, n * vocab);
                    long offset = header.length + ((long) r * t + pos) * vocab * 4L;
                    writeFully(ch, bytes, offset);
                }
                pos += n;
            }
        } catch (IOException e) {
            throw new CliException(out + ": cannot write the output: " + Io.oneLine(String.valueOf(e.getMessage())), e);
        }
    }

    private static void writeFully(FileChannel ch, ByteBuffer buf, long offset) throws IOException {
        while (buf.hasRemaining()) offset += ch.write(buf, offset);
    }

    /** Token ids read from the ids file: one row unless {@code batch}. */
    record Ids(int[][] rows, boolean batch) {
        String where(int row, int i) {
            return batch ? "row " + row + ", element " + i : "element " + i;
        }
    }

    /** Reads a flat JSON array of ids, or an array of equal-length arrays; errors name the file and the element. */
    static Ids readIds(String json, String file) {
        List<int[]> rows = new ArrayList<>();
        Boolean batch = null;
        try (JsonParser p = new JsonFactory().createParser(json)) {
            if (p.nextToken() != JsonToken.START_ARRAY) throw new CliException(file + ": expected a JSON array of token ids");
            List<Integer> flat = new ArrayList<>();
            int index = 0;
            for (JsonToken tok = p.nextToken(); tok != JsonToken.END_ARRAY; tok = p.nextToken(), index++) {
                if (tok == null) throw new CliException(file + ": unterminated JSON array");
                if (tok == JsonToken.START_ARRAY) {
                    if (Boolean.FALSE.equals(batch)) throw new CliException(file + ": element " + index + ": an array among token ids");
                    batch = true;
                    int[] row = readRow(p, file, index);
                    if (row.length == 0) throw new CliException(file + ": row " + index + " is empty");
                    if (!rows.isEmpty() && row.length != rows.get(0).length) {
                        throw new CliException(file + ": row " + index + " has " + row.length + " ids, row 0 has "
                                + rows.get(0).length + " (batch rows must have equal lengths)");
                    }
                    rows.add(row);
                } else {
                    if (Boolean.TRUE.equals(batch)) throw new CliException(file + ": element " + index + ": expected an array of ids (a batch row)");
                    batch = false;
                    flat.add(readId(p, tok, file, "element " + index));
                }
            }
            if (p.nextToken() != null) throw new CliException(file + ": unexpected content after the JSON array");
            if (batch == null) throw new CliException(file + ": no token ids");
            if (!batch) rows.add(flat.stream().mapToInt(Integer::intValue).toArray());
        } catch (IOException e) {
            throw new CliException(file + ": not valid JSON: " + Io.oneLine(Io.jsonMessage(e.getMessage())), e);
        }
        return new Ids(rows.toArray(new int[0][]), batch);
    }

    private static int[] readRow(JsonParser p, String file, int row) throws IOException {
        int[] ids = new int[16];
        int n = 0;
        for (JsonToken tok = p.nextToken(); tok != JsonToken.END_ARRAY; tok = p.nextToken()) {
            if (tok == null) throw new CliException(file + ": unterminated JSON array");
            if (n == ids.length) ids = Arrays.copyOf(ids, n * 2);
            ids[n] = readId(p, tok, file, "row " + row + ", element " + n);
            n++;
        }
        return Arrays.copyOf(ids, n);
    }

    private static int readId(JsonParser p, JsonToken tok, String file, String where) throws IOException {
        if (tok != JsonToken.VALUE_NUMBER_INT || p.getNumberType() != JsonParser.NumberType.INT) {
            throw new CliException(file + ": " + where + " is not a token id: " + p.getText());
        }
        int id = p.getIntValue();
        if (id < 0) throw new CliException(file + ": " + where + ": id " + id + " is negative");
        return id;
    }

    /** .npy format 1.0 headers. */
    static final class Npy {
        private Npy() {}

        /** The header of a C-order little-endian float32 array of the given shape, padded to 64 bytes. */
        static byte[] header(int[] shape) {
            StringBuilder dims = new StringBuilder();
            for (int d : shape) dims.append(d).append(", ");
            String s = shape.length == 1 ? dims.toString().strip() : dims.substring(0, dims.length() - 2);
            StringBuilder dict = new StringBuilder("{'descr': '<f4', 'fortran_order': False, 'shape': (" + s + "), }");
            int total = 10 + dict.length() + 1;
            dict.append(" ".repeat((64 - total % 64) % 64)).append('\n');
            byte[] d = dict.toString().getBytes(StandardCharsets.US_ASCII);
            ByteBuffer b = ByteBuffer.allocate(10 + d.length).order(ByteOrder.LITTLE_ENDIAN);
            b.put((byte) 0x93).put("NUMPY".getBytes(StandardCharsets.US_ASCII)).put((byte) 1).put((byte) 0);
            b.putShort((short) d.length).put(d);
            return b.array();
        }
    }

    static final class NumericsConverter implements ITypeConverter<Numerics> {
        @Override
        public Numerics convert(String value) {
            return switch (value) {
                case "f32" -> Numerics.F32;
                case "fp8" -> Numerics.FP8;
                default -> throw new TypeConversionException("'" + value + "' is not a numerics mode (expected f32 or fp8)");
            };
        }
    }

    static final class NumericsCandidates implements Iterable<String> {
        @Override
        public Iterator<String> iterator() {
            return List.of("f32", "fp8").iterator();
        }
    }
}
