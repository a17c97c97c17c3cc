package dev.dsv32.nativ;

/**
 * Progress of {@link NativeModel#open} ({@code dsv32_progress_fn}): called on the opening thread, in stages, each in
 * bytes: {@code "map"} (the safetensors files mapped and their headers validated), {@code "validate"} (the tensors
 * found and checked against the config), then on the CPU backend {@code "shard"} (the tensors split for the
 * model-parallel ranks) and {@code "pack"} (the weights it repacks or copies for its kernels: the layers' matrices into
 * huge-page memory unless {@code DSV32_WEIGHT_ARENA=0}, the head's row panels and the W_UK pair tiles where its kernels
 * read them), on the CUDA backend {@code "upload"} (the tensors copied to device memory);
 * {@link CheckpointConverter#convert} goes on with {@code "convert"} (bytes of the rank files written) and
 * {@code "verify"} (bytes of them re-read and compared). Within a
 * stage {@code total} is fixed and {@code done} does not decrease; each stage's last call has {@code done == total}.
 * About one call per file and per layer, not per tensor.
 *
 * <p>A listener that throws does not break the load: the exception is logged (SLF4J, WARN) and the listener is not
 * called again during that open.
 */
@FunctionalInterface
public interface LoadProgressListener {
    /**
     * @param stage {@code "map"}, {@code "validate"}, {@code "shard"} and {@code "pack"} (CPU) or {@code "upload"} (CUDA),
     *     {@code "convert"} or {@code "verify"}
     * @param done bytes done in this stage
     * @param total bytes of this stage
     */
    void onProgress(String stage, long done, long total);
}
