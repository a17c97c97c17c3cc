package dev.dsv32.tools;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A minimal .npy reader for tests: little-endian float32, C order, format 1.0–3.0. */
record NpyFile(int[] shape, float[] data) {
    private static final Pattern DESCR = Pattern.compile("'descr':\\s*'([^']*)'");
    private static final Pattern ORDER = Pattern.compile("'fortran_order':\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape':\\s*\\(([^)]*)\\)");

    static NpyFile read(Path file) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        byte[] magic = new byte[6];
        b.get(magic);
        if (!Arrays.equals(magic, new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'})) throw new IOException(file + ": not .npy");
        int major = b.get();
        b.get();
        int headerLen = major == 1 ? Short.toUnsignedInt(b.getShort()) : b.getInt();
        byte[] h = new byte[headerLen];
        b.get(h);
        String header = new String(h, StandardCharsets.ISO_8859_1);
        Matcher d = DESCR.matcher(header), o = ORDER.matcher(header), s = SHAPE.matcher(header);
        if (!d.find() || !o.find() || !s.find()) throw new IOException(file + ": bad header " + header);
        if (!d.group(1).equals("<f4")) throw new IOException(file + ": dtype " + d.group(1) + ", expected <f4");
        if (o.group(1).equals("True")) throw new IOException(file + ": Fortran order");
        int[] shape = Arrays.stream(s.group(1).split(",")).map(String::strip).filter(x -> !x.isEmpty())
                .mapToInt(Integer::parseInt).toArray();
        long n = 1;
        for (int x : shape) n *= x;
        if (b.remaining() != n * 4) throw new IOException(file + ": " + b.remaining() + " data bytes for shape " + Arrays.toString(shape));
        float[] data = new float[(int) n];
        b.asFloatBuffer().get(data);
        return new NpyFile(shape, data);
    }
}
