package io.signalbox.routing.internal;

import java.util.Map;
import java.util.function.Consumer;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.signalbox.api.ConfigCheck;

/**
 * One route configuration ({@code etc/io.signalbox.route-<name>.cfg}), registered as a service
 * for the {@link RoutingEngine}; it holds the {@link RouteDefinition} in force for that file.
 *
 * <p>A configuration is validated as a whole before it takes effect: unknown keys (with
 * did-you-mean), values of the wrong type, a bad glob, an unknown message type, no backends.
 * A rejected configuration is logged once at ERROR ({@code configuration <pid> (<file>) rejected:
 * <reason>}) and counted ({@link ConfigCheck}): at activation the component throws, so it is not
 * registered and the route does not count as configured (DS tries again when the file changes);
 * on a modification the route in force stays.
 */
@Component(service = RouteComponent.class, configurationPid = RouteComponent.FACTORY_PID,
        configurationPolicy = ConfigurationPolicy.REQUIRE)
@Designate(ocd = RouteComponent.Config.class, factory = true)
public final class RouteComponent {
    /** Factory PID of route configurations. */
    public static final String FACTORY_PID = "io.signalbox.route";

    private static final Logger LOG = LoggerFactory.getLogger(RouteComponent.class);

    @ObjectClassDefinition(name = "Signalbox route", description = "Sends the messages of matching sources to named backends.")
    public @interface Config {
        @AttributeDefinition(description = "Exact source name, glob with * and ? (queue-*), or default (sources no other route takes). Ignored for global routes.", required = false) String source() default "";
        @AttributeDefinition(description = "Backend instance names (the -<name> part of their config file).") String[] backends() default {};
        @AttributeDefinition(description = "Only these message types (event, metric, progress, resource, span, heartbeat, hello, goodbye); empty = all.", required = false) String[] types() default {};
        @AttributeDefinition(description = "A disabled route is ignored.", required = false) boolean enabled() default true;
        @AttributeDefinition(description = "Higher priority routes are applied first.", required = false) int priority() default 0;
        @AttributeDefinition(description = "Applies to every source, in addition to its other routes.", required = false) boolean global() default false;
        @AttributeDefinition(description = "Route name; default: the -<name> part of the config file.", required = false) String name() default "";
    }

    private volatile RouteDefinition route;
    private volatile Consumer<RouteComponent> listener;

    /** @throws ConfigCheck.Rejected if the configuration is rejected (logged and counted) */
    @Activate
    public RouteComponent(Config config, Map<String, Object> properties) {
        this.route = ConfigCheck.activate(LOG, FACTORY_PID, properties, () -> RouteDefinition.parse(config, properties));
        LOG.info("route {} configured: {}", route.name(), route);
    }

    /** Applies a changed configuration if it is valid; otherwise the route in force stays. */
    @Modified
    public void modified(Config config, Map<String, Object> properties) {
        RouteDefinition current = route;
        RouteDefinition next = ConfigCheck.modify(LOG, FACTORY_PID, properties,
                () -> RouteDefinition.parse(config, properties), "route " + current.name() + ": " + current);
        if (next == null) {
            return;
        }
        route = next;
        LOG.info("route {} reconfigured: {}", next.name(), next);
        Consumer<RouteComponent> l = listener;
        if (l != null) {
            l.accept(this);
        }
    }

    /** The route in force. */
    RouteDefinition route() {
        return route;
    }

    /** The engine's callback for a change of the route in force (one listener). */
    void listen(Consumer<RouteComponent> l) {
        this.listener = l;
    }
}
