package io.compactml.serve;

/**
 * A request the server answers with an error instead of outputs: the HTTP status (4xx: the request is wrong; 503:
 * the server is draining), the kind counted in {@code compactml_serve_errors_total} and a message naming what is
 * wrong, sent as the protocol's {@code {"error": "..."}} body.
 */
final class ServeException extends RuntimeException {
    final int status;
    final String kind;

    ServeException(int status, String kind, String message) {
        super(message, null, false, false);
        this.status = status;
        this.kind = kind;
    }

    static ServeException badRequest(String kind, String message) {
        return new ServeException(400, kind, message);
    }

    static ServeException notFound(String kind, String message) {
        return new ServeException(404, kind, message);
    }

    /** A request parsed for a version swapped out since, whose input width the new version does not take. */
    static ServeException widthChanged(ServedVersion v) {
        return new ServeException(
                503, "not_ready", "version " + v.version + " takes another input width; send the request again");
    }
}
