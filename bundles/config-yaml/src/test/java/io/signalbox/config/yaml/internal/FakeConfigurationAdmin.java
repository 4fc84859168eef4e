package io.signalbox.config.yaml.internal;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Dictionary;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.Hashtable;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.osgi.framework.Filter;
import org.osgi.framework.FrameworkUtil;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceReference;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;

/** An in-memory Config Admin with the semantics the installer relies on (listing only configurations with properties). */
final class FakeConfigurationAdmin implements ConfigurationAdmin {
    private final Map<String, FakeConfiguration> store = new LinkedHashMap<>();
    private int generated;

    @Override
    public synchronized Configuration createFactoryConfiguration(String factoryPid) {
        return createFactoryConfiguration(factoryPid, null);
    }

    @Override
    public synchronized Configuration createFactoryConfiguration(String factoryPid, String location) {
        String pid = factoryPid + "." + (++generated);
        FakeConfiguration c = new FakeConfiguration(pid, factoryPid, location);
        store.put(pid, c);
        return c;
    }

    @Override
    public synchronized Configuration getConfiguration(String pid, String location) {
        return store.computeIfAbsent(pid, p -> new FakeConfiguration(p, null, location));
    }

    @Override
    public Configuration getConfiguration(String pid) {
        return getConfiguration(pid, null);
    }

    @Override
    public synchronized Configuration getFactoryConfiguration(String factoryPid, String name, String location) {
        return store.computeIfAbsent(factoryPid + "~" + name, p -> new FakeConfiguration(p, factoryPid, location));
    }

    @Override
    public Configuration getFactoryConfiguration(String factoryPid, String name) {
        return getFactoryConfiguration(factoryPid, name, null);
    }

    @Override
    public synchronized Configuration[] listConfigurations(String filter) throws InvalidSyntaxException {
        Filter f = filter == null ? null : FrameworkUtil.createFilter(filter);
        List<Configuration> out = new ArrayList<>();
        for (FakeConfiguration c : store.values()) {
            if (c.properties != null && (f == null || f.matches(c.asMap()))) {
                out.add(c);
            }
        }
        return out.isEmpty() ? null : out.toArray(new Configuration[0]);
    }

    /** Test helper: the properties of a configuration (without the service.* keys), or null if it does not exist. */
    synchronized Map<String, Object> properties(String pid) {
        FakeConfiguration c = store.get(pid);
        if (c == null || c.properties == null) {
            return null;
        }
        Map<String, Object> m = c.asMap();
        m.remove("service.pid");
        m.remove("service.factoryPid");
        return m;
    }

    /** Test helper: how often a configuration was updated (0 if it does not exist). */
    synchronized long changeCount(String pid) {
        FakeConfiguration c = store.get(pid);
        return c == null ? 0 : c.changeCount;
    }

    /** Test helper: the PIDs of every configuration with properties. */
    synchronized Set<String> pids() {
        Set<String> pids = new java.util.TreeSet<>();
        store.forEach((pid, c) -> {
            if (c.properties != null) {
                pids.add(pid);
            }
        });
        return pids;
    }

    /** Test helper: a configuration as fileinstall would create it from a .cfg file. */
    void putFromCfg(String pid, Map<String, Object> properties, String fileName) {
        Hashtable<String, Object> d = new Hashtable<>(properties);
        d.put("felix.fileinstall.filename", fileName);
        try {
            getConfiguration(pid, "?").update(d);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    private final class FakeConfiguration implements Configuration {
        private final String pid;
        private final String factoryPid;
        private String location;
        private Hashtable<String, Object> properties;
        private long changeCount;

        FakeConfiguration(String pid, String factoryPid, String location) {
            this.pid = pid;
            this.factoryPid = factoryPid;
            this.location = location;
        }

        Map<String, Object> asMap() {
            Map<String, Object> m = new HashMap<>(properties);
            m.put("service.pid", pid);
            if (factoryPid != null) {
                m.put("service.factoryPid", factoryPid);
            }
            return m;
        }

        @Override
        public String getPid() {
            return pid;
        }

        @Override
        public Dictionary<String, Object> getProperties() {
            synchronized (FakeConfigurationAdmin.this) {
                if (properties == null) {
                    return null;
                }
                Hashtable<String, Object> copy = new Hashtable<>(asMap());
                return copy;
            }
        }

        @Override
        public Dictionary<String, Object> getProcessedProperties(ServiceReference<?> reference) {
            return getProperties();
        }

        @Override
        public void update(Dictionary<String, ?> newProperties) {
            synchronized (FakeConfigurationAdmin.this) {
                Hashtable<String, Object> copy = new Hashtable<>();
                for (Enumeration<String> keys = newProperties.keys(); keys.hasMoreElements();) {
                    String k = keys.nextElement();
                    if (!k.equals("service.pid") && !k.equals("service.factoryPid")) {
                        copy.put(k, newProperties.get(k));
                    }
                }
                properties = copy;
                changeCount++;
                store.put(pid, this);
            }
        }

        @Override
        public void delete() {
            synchronized (FakeConfigurationAdmin.this) {
                store.remove(pid);
                properties = null;
            }
        }

        @Override
        public String getFactoryPid() {
            return factoryPid;
        }

        @Override
        public void update() {
            changeCount++;
        }

        @Override
        public boolean updateIfDifferent(Dictionary<String, ?> newProperties) {
            update(newProperties);
            return true;
        }

        @Override
        public void setBundleLocation(String location) {
            this.location = location;
        }

        @Override
        public String getBundleLocation() {
            return location;
        }

        @Override
        public long getChangeCount() {
            return changeCount;
        }

        @Override
        public void addAttributes(ConfigurationAttribute... attrs) {
            throw new UnsupportedOperationException();
        }

        @Override
        public Set<ConfigurationAttribute> getAttributes() {
            return Collections.emptySet();
        }

        @Override
        public void removeAttributes(ConfigurationAttribute... attrs) {
            throw new UnsupportedOperationException();
        }
    }
}
