export { type GatewayConfig, loadGatewayConfig } from './config/gateway.config.js';
export { type DimseServer, listenDimse } from './dimse/dimse.server.js';
export { createGatewayScp, type ScpPolicy } from './dimse/gateway.scp.js';
