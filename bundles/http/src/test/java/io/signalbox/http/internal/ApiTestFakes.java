package io.signalbox.http.internal;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import io.signalbox.api.BackendStatus;
import io.signalbox.api.Batch;
import io.signalbox.api.Ingest;
import io.signalbox.api.Message;
import io.signalbox.api.RouteInfo;
import io.signalbox.api.Router;

/** Fake services for the servlet tests. */
final class ApiTestFakes {
    private ApiTestFakes() {
    }

    /** A router with a fixed routing table and backend list. */
    static final class FakeRouter implements Router {
        volatile List<RouteInfo> routes = List.of();
        volatile List<BackendStatus> backends = List.of();

        @Override
        public void route(Batch batch, Runnable delivered) {
            delivered.run();
        }

        @Override
        public List<RouteInfo> routes() {
            return routes;
        }

        @Override
        public List<BackendStatus> backends() {
            return backends;
        }
    }

    /** Keeps what it is offered; {@link #writable} switches the back-pressure answer. */
    static class FakeIngest implements Ingest {
        final List<Message> offered = new CopyOnWriteArrayList<>();
        volatile boolean writable = true;
        volatile RuntimeException failure;

        @Override
        public boolean offer(Message message) {
            if (failure != null) {
                throw failure;
            }
            offered.add(message);
            return writable;
        }

        @Override
        public boolean isWritable() {
            return writable;
        }

        @Override
        public void whenWritable(Runnable callback) {
            callback.run();
        }
    }

    static BackendStatus backend(String name, BackendStatus.State state) {
        return new BackendStatus(name, "file", state, 1, 2, 3, 4, 5, 6, 7);
    }
}
