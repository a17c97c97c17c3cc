package dev.dsv32.nativ.jni;

import java.nio.FloatBuffer;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FunctionPointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.annotation.ByPtrPtr;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Const;
import org.bytedeco.javacpp.annotation.Opaque;
import org.bytedeco.javacpp.annotation.Platform;

/**
 * The raw JavaCPP mapping of {@code dsv32/dsv32.h}, the C API of the native core (plus {@code dsv32_jni.h}, a helper
 * that takes a forward batch as flat arrays so that one step is one JNI call). Not for direct use: the checked,
 * closeable API is {@link dev.dsv32.nativ.NativeModel}. Every function returns {@link #DSV32_OK} or an error code, with
 * the message in {@link #dsv32_last_error()} on the calling thread.
 */
@Platform(value = "linux-x86_64", compiler = "cpp17", include = {"dsv32/dsv32.h", "dsv32_jni.h", "dsv32_bench.h"}, link = "dsv32",
        preload = "dsv32_hip")
public class Dsv32Native {
    static {
        Loader.load();
    }

    private Dsv32Native() {}

    // enum dsv32_status
    public static final int DSV32_OK = 0;
    public static final int DSV32_ERR_INVALID_ARGUMENT = 1;
    public static final int DSV32_ERR_CHECKPOINT = 2;
    public static final int DSV32_ERR_CAPACITY = 3;
    public static final int DSV32_ERR_INTERNAL = 4;
    public static final int DSV32_ERR_UNAVAILABLE = 5;
    // enum dsv32_backend
    public static final int DSV32_BACKEND_CPU = 0;
    public static final int DSV32_BACKEND_CUDA = 1;
    public static final int DSV32_BACKEND_AUTO = 2;
    public static final int DSV32_BACKEND_HIP = 3;

    // enum dsv32_numerics
    public static final int DSV32_NUMERICS_DEFAULT = 0;
    public static final int DSV32_NUMERICS_F32 = 1;
    public static final int DSV32_NUMERICS_FP8 = 2;

    // debug flags
    public static final int DSV32_DEBUG_INDEXER_ROPE_INTERLEAVED = 1;
    public static final int DSV32_DEBUG_NO_YARN = 2;
    public static final int DSV32_DEBUG_NO_GATE_BIAS = 4;
    public static final int DSV32_DEBUG_DENSE_ATTENTION = 16;

    /** {@code dsv32_model}: opaque. */
    @Opaque
    public static class dsv32_model extends Pointer {
        public dsv32_model() {
            super((Pointer) null);
        }

        public dsv32_model(Pointer p) {
            super(p);
        }
    }

    /**
     * {@code dsv32_progress_fn}: a C function pointer to Java code. Subclass it and override {@link #call}; JavaCPP
     * allows few instances per class at once (keep one and dispatch on {@code user}, as NativeModel does). An
     * exception thrown by {@code call} would surface in the engine as a C++ exception: catch everything inside.
     */
    public static class dsv32_progress_fn extends FunctionPointer {
        static {
            Loader.load();
        }

        public dsv32_progress_fn(Pointer p) {
            super(p);
        }

        protected dsv32_progress_fn() {
            allocate();
        }

        private native void allocate();

        public native void call(Pointer user, @Cast("const char*") BytePointer stage, @Cast("int64_t") long done,
                                @Cast("int64_t") long total);
    }

    /** {@code dsv32_open_options}. */
    public static class dsv32_open_options extends Pointer {
        static {
            Loader.load();
        }

        public dsv32_open_options() {
            super((Pointer) null);
            allocate();
        }

        public dsv32_open_options(Pointer p) {
            super(p);
        }

        private native void allocate();

        public native int numerics();
        public native dsv32_open_options numerics(int v);
        public native int mp();
        public native dsv32_open_options mp(int v);
        public native int max_seq_len();
        public native dsv32_open_options max_seq_len(int v);
        public native int max_sequences();
        public native dsv32_open_options max_sequences(int v);
        public native int n_threads();
        public native dsv32_open_options n_threads(int v);
        public native int debug_flags();
        public native dsv32_open_options debug_flags(int v);
        public native dsv32_progress_fn progress();
        public native dsv32_open_options progress(dsv32_progress_fn v);
        public native Pointer progress_user();
        public native dsv32_open_options progress_user(Pointer v);
        public native int kv_block_size();
        public native dsv32_open_options kv_block_size(int v);
        public native int kv_pool_tokens();
        public native dsv32_open_options kv_pool_tokens(int v);
        public native int verify_checksums();
        public native dsv32_open_options verify_checksums(int v);
        public native int backend();
        public native dsv32_open_options backend(int v);
        public native int device();
        public native dsv32_open_options device(int v);
    }

    /** {@code dsv32_convert_options} ({@link #dsv32_convert}). */
    public static class dsv32_convert_options extends Pointer {
        static {
            Loader.load();
        }

        public dsv32_convert_options() {
            super((Pointer) null);
            allocate();
        }

        public dsv32_convert_options(Pointer p) {
            super(p);
        }

        private native void allocate();

        public native int mp();
        public native dsv32_convert_options mp(int v);
        public native int n_threads();
        public native dsv32_convert_options n_threads(int v);
        public native int force();
        public native dsv32_convert_options force(int v);
        public native dsv32_progress_fn progress();
        public native dsv32_convert_options progress(dsv32_progress_fn v);
        public native Pointer progress_user();
        public native dsv32_convert_options progress_user(Pointer v);
    }

    /** {@code dsv32_convert_result}. */
    public static class dsv32_convert_result extends Pointer {
        static {
            Loader.load();
        }

        public dsv32_convert_result() {
            super((Pointer) null);
            allocate();
        }

        public dsv32_convert_result(Pointer p) {
            super(p);
        }

        private native void allocate();

        public native int files();
        public native dsv32_convert_result files(int v);
        public native int verified();
        public native dsv32_convert_result verified(int v);
        public native @Cast("int64_t") long tensors();
        public native dsv32_convert_result tensors(long v);
        public native @Cast("int64_t") long bytes();
        public native dsv32_convert_result bytes(long v);
    }

    /** {@code dsv32_kv_cache_stats}: the KV cache pool ({@link #dsv32_cache_stats}). */
    public static class dsv32_kv_cache_stats extends Pointer {
        static {
            Loader.load();
        }

        public dsv32_kv_cache_stats() {
            super((Pointer) null);
            allocate();
        }

        public dsv32_kv_cache_stats(Pointer p) {
            super(p);
        }

        private native void allocate();

        public native int block_size();
        public native dsv32_kv_cache_stats block_size(int v);
        public native int open_sequences();
        public native dsv32_kv_cache_stats open_sequences(int v);
        public native @Cast("int64_t") long total_blocks();
        public native dsv32_kv_cache_stats total_blocks(long v);
        public native @Cast("int64_t") long free_blocks();
        public native dsv32_kv_cache_stats free_blocks(long v);
        public native @Cast("int64_t") long allocated_blocks();
        public native dsv32_kv_cache_stats allocated_blocks(long v);
        public native @Cast("int64_t") long used_tokens();
        public native dsv32_kv_cache_stats used_tokens(long v);
        public native @Cast("int64_t") long block_bytes();
        public native dsv32_kv_cache_stats block_bytes(long v);
    }

    /** {@code dsv32_model_info}. */
    public static class dsv32_model_info extends Pointer {
        static {
            Loader.load();
        }

        public dsv32_model_info() {
            super((Pointer) null);
            allocate();
        }

        public dsv32_model_info(Pointer p) {
            super(p);
        }

        private native void allocate();

        public native int vocab_size();
        public native dsv32_model_info vocab_size(int v);
        public native int hidden_size();
        public native dsv32_model_info hidden_size(int v);
        public native int num_layers();
        public native dsv32_model_info num_layers(int v);
        public native int max_seq_len();
        public native dsv32_model_info max_seq_len(int v);
        public native int numerics();
        public native dsv32_model_info numerics(int v);
        public native int mp();
        public native dsv32_model_info mp(int v);
        public native int backend();
        public native dsv32_model_info backend(int v);
    }

    /** {@code dsv32_batch_entry} (mapped for completeness; {@link #dsv32_forward_flat} is what the Java layer uses). */
    public static class dsv32_batch_entry extends Pointer {
        static {
            Loader.load();
        }

        public dsv32_batch_entry() {
            super((Pointer) null);
            allocate();
        }

        public dsv32_batch_entry(long size) {
            super((Pointer) null);
            allocateArray(size);
        }

        public dsv32_batch_entry(Pointer p) {
            super(p);
        }

        private native void allocate();
        private native void allocateArray(long size);

        public native int seq();
        public native dsv32_batch_entry seq(int v);
        public native int start_pos();
        public native dsv32_batch_entry start_pos(int v);
        public native int n_tokens();
        public native dsv32_batch_entry n_tokens(int v);
        public native @Cast("const int32_t*") org.bytedeco.javacpp.IntPointer tokens();
        public native dsv32_batch_entry tokens(@Cast("const int32_t*") org.bytedeco.javacpp.IntPointer v);
    }

    /** {@code dsv32_sampling_params} (mapped for completeness; {@link #dsv32_sample_flat} is what the Java layer uses). */
    public static class dsv32_sampling_params extends Pointer {
        static {
            Loader.load();
        }

        public dsv32_sampling_params() {
            super((Pointer) null);
            allocate();
        }

        public dsv32_sampling_params(Pointer p) {
            super(p);
        }

        private native void allocate();

        public native double temperature();
        public native dsv32_sampling_params temperature(double v);
        public native double top_p();
        public native dsv32_sampling_params top_p(double v);
        public native int top_k();
        public native dsv32_sampling_params top_k(int v);
    }

    public static native int dsv32_model_open(@Cast("const char*") BytePointer dir, @Const dsv32_open_options options,
                                              @ByPtrPtr dsv32_model out);

    public static native int dsv32_model_open(String dir, @Const dsv32_open_options options, @ByPtrPtr dsv32_model out);

    public static native void dsv32_model_close(dsv32_model model);

    public static native int dsv32_model_get_info(@Const dsv32_model model, dsv32_model_info out);

    public static native int dsv32_seq_open(dsv32_model model, @Cast("int32_t*") int[] seqOut);

    public static native int dsv32_seq_close(dsv32_model model, int seq);

    public static native int dsv32_seq_truncate(dsv32_model model, int seq, int newLen);

    public static native int dsv32_seq_fork(dsv32_model model, int seq, @Cast("int32_t*") int[] newSeq);

    public static native int dsv32_cache_stats(@Const dsv32_model model, dsv32_kv_cache_stats out);

    public static native int dsv32_forward(dsv32_model model, @Const dsv32_batch_entry entries, int nEntries,
                                           FloatBuffer logits, @Cast("size_t") long logitsLen);

    public static native int dsv32_forward(dsv32_model model, @Const dsv32_batch_entry entries, int nEntries,
                                           float[] logits, @Cast("size_t") long logitsLen);

    public static native int dsv32_forward_last(dsv32_model model, @Const dsv32_batch_entry entries, int nEntries,
                                                FloatBuffer logits, @Cast("size_t") long logitsLen);

    public static native int dsv32_forward_last(dsv32_model model, @Const dsv32_batch_entry entries, int nEntries,
                                                float[] logits, @Cast("size_t") long logitsLen);

    public static native @Cast("const char*") BytePointer dsv32_last_error();

    public static native @Cast("const char*") BytePointer dsv32_model_device(@Const dsv32_model model);

    public static native int dsv32_backend_available(int backend);

    public static native int dsv32_convert(@Cast("const char*") BytePointer srcDir, @Cast("const char*") BytePointer outDir,
                                           @Const dsv32_convert_options options, dsv32_convert_result out);

    /** One forward step in one JNI call: {@code entries} = (seq, start_pos, n_tokens) triples, tokens concatenated. */
    public static native int dsv32_forward_flat(dsv32_model model, @Cast("const int32_t*") int[] entries, int nEntries,
                                                @Cast("const int32_t*") int[] tokens, long tokensLen,
                                                float[] logits, long logitsLen);

    /** As above, writing into a direct buffer (from its position). */
    public static native int dsv32_forward_flat(dsv32_model model, @Cast("const int32_t*") int[] entries, int nEntries,
                                                @Cast("const int32_t*") int[] tokens, long tokensLen,
                                                FloatBuffer logits, long logitsLen);

    /**
     * One step in one JNI call, for {@code dsv32_forward} ({@code lastOnly == 0}, every row) or
     * {@code dsv32_forward_last} (one row per entry), writing from {@code logits[offset]}.
     */
    public static native int dsv32_step_flat(dsv32_model model, @Cast("const int32_t*") int[] entries, int nEntries,
                                             @Cast("const int32_t*") int[] tokens, long tokensLen, int lastOnly,
                                             float[] logits, long logitsLen, long offset);

    /** As above, writing into a direct buffer (from {@code offset} floats past its position). */
    public static native int dsv32_step_flat(dsv32_model model, @Cast("const int32_t*") int[] entries, int nEntries,
                                             @Cast("const int32_t*") int[] tokens, long tokensLen, int lastOnly,
                                             FloatBuffer logits, long logitsLen, long offset);

    // --- sampling ---

    public static native int dsv32_sample(@Const float[] logits, int vocab, @Const dsv32_sampling_params params,
                                          @Cast("uint64_t*") long[] rngState, @Cast("int32_t*") int[] tokenOut);

    public static native int dsv32_sample_rows(@Const float[] logits, int nRows, int vocab, @Const dsv32_sampling_params params,
                                               @Cast("uint64_t*") long[] rngState, @Cast("int32_t*") int[] tokensOut);

    public static native @Cast("uint64_t") long dsv32_splitmix64_next(@Cast("uint64_t*") long[] state);

    /** One sample in one JNI call: {@code logits[offset .. offset+vocab)}, the params as scalars. */
    public static native int dsv32_sample_flat(@Const float[] logits, long logitsLen, long offset, int vocab,
                                               double temperature, double topP, int topK,
                                               @Cast("uint64_t*") long[] rngState, @Cast("int32_t*") int[] tokenOut);

    // dsv32_bench.h: micro-benchmark entry points (benchmarks/ and `dsv32 bench report`)
    public static final int DSV32_BENCH_F32 = 0;
    public static final int DSV32_BENCH_FP8 = 1;
    public static final int DSV32_BENCH_BF16 = 2;
    public static final int DSV32_BENCH_FP8_BF16X = 3;

    public static native int dsv32_bench_linear(int dtype, int m, int n, int k, int nThreads, int iters, double[] secondsPerCall);

    public static native int dsv32_bench_fma_peak(int nThreads, double minSeconds, double[] gflops);

    public static native @Cast("const char*") BytePointer dsv32_bench_kernel_path();

    public static native @Cast("const char*") BytePointer dsv32_bench_cpu_kernels();

    public static native int dsv32_bench_blas_linear(int dtype, int m, int n, int k, int nThreads, int iters, double[] secondsPerCall);

    public static native int dsv32_bench_blas_available(int dtype);

    public static native @Cast("const char*") BytePointer dsv32_bench_blas_describe();

    public static native int dsv32_bench_indexer(int nHeads, int headDim, int nKeys, int topk, int nThreads, int iters,
                                                 double[] secondsPerCall);

    public static native int dsv32_bench_sparse_attention(int nHeads, int nKeys, int topk, int nThreads, int iters,
                                                          double[] secondsPerCall);

    public static native int dsv32_bench_moe(int m, int dim, int nExperts, int nGroups, int topkGroups, int nActive,
                                             int inter, int nThreads, int iters, double[] secondsPerCall);
}
