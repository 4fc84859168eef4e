package io.signalbox.api;

import org.osgi.annotation.versioning.ProviderType;

/** Routes batches to backends by the routes in force. Provided by the routing bundle. */
@ProviderType
public interface Router {
    /**
     * Routes one batch. Never blocks: the batch is queued on the channel of every backend
     * a route sends it to.
     *
     * @param batch     messages of one source
     * @param delivered run exactly once, when every channel the batch was queued on has
     *                  handed it to its backend (or dropped it and counted the drop); run at
     *                  once if no route matches
     */
    void route(Batch batch, Runnable delivered);

    /** The routes in force, in the order they are applied. */
    default java.util.List<RouteInfo> routes() {
        return java.util.List.of();
    }

    /** The delivery state of every backend name known to the router (routed to, bound, or spooled for). */
    default java.util.List<BackendStatus> backends() {
        return java.util.List.of();
    }
}
