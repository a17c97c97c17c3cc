package dev.dsv32.tools.serve;

/**
 * A request the server refuses: the HTTP status and the fields of an OpenAI-style error body
 * ({@code {"error": {"message", "type", "param", "code"}}}).
 */
public final class ApiException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final int status;
    private final String type;
    private final String param;
    private final String code;
    private final long retryAfterSeconds;

    public ApiException(int status, String type, String param, String code, String message) {
        this(status, type, param, code, message, 0);
    }

    /** With a {@code Retry-After} of {@code retryAfterSeconds} (0: none), e.g. for 429. */
    public ApiException(int status, String type, String param, String code, String message, long retryAfterSeconds) {
        super(message, null, false, false); // no stack trace: it is never shown, and refusals are cheap
        this.status = status;
        this.type = type;
        this.param = param;
        this.code = code;
        this.retryAfterSeconds = retryAfterSeconds;
    }

    /** 400 {@code invalid_request_error}, naming the offending parameter. */
    public static ApiException badRequest(String param, String message) {
        return new ApiException(400, "invalid_request_error", param, null, message);
    }

    public static ApiException badRequest(String param, String code, String message) {
        return new ApiException(400, "invalid_request_error", param, code, message);
    }

    public int status() {
        return status;
    }

    public String type() {
        return type;
    }

    public String param() {
        return param;
    }

    public String code() {
        return code;
    }

    /** Seconds for {@code Retry-After}; 0 when none. */
    public long retryAfterSeconds() {
        return retryAfterSeconds;
    }
}
