package io.signalbox.http.internal;

import java.util.List;

import io.signalbox.api.BackendStatus;
import io.signalbox.api.Batch;
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

    static BackendStatus backend(String name, BackendStatus.State state) {
        return new BackendStatus(name, "file", state, 1, 2, 3, 4, 8, 5, 6, 7);
    }
}
