/**
 * Reading the YAML files admins write by hand, strictly: every error names the file, the line
 * and the key ({@link io.beamgate.security.yaml.StrictYaml},
 * {@link io.beamgate.security.yaml.ConfigException}). The policy file is read with it here;
 * the gateway's configuration, which is the gateway's own, is read with it in
 * {@code io.beamgate.gateway.config}.
 */
package io.beamgate.security.yaml;
