package dev.dsv32.nativ;

/**
 * The requested backend cannot run here ({@code DSV32_ERR_UNAVAILABLE}): the native library was built without it
 * ("backend cuda is not available in this build (...)") or no device can be used ("backend cuda is not available: no
 * CUDA device (...)"). The message is the engine's.
 */
public class BackendUnavailableException extends NativeException {
    private static final long serialVersionUID = 1L;

    public BackendUnavailableException(String message) {
        super(NativeException.Status.UNAVAILABLE.code(), message);
    }
}
