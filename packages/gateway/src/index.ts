export { type GatewayConfig, GatewayConfigError, loadGatewayConfig } from './config/gateway.config.js';
export { Association } from './dimse/association.js';
export { type DimseServer, listenDimse } from './dimse/dimse.server.js';
export { createScpHooks, type ScpPolicy } from './dimse/gateway.scp.js';
export { type Peer, parsePeers } from './dimse/store.scu.js';
export { type RunningGateway, startGateway } from './gateway.js';
export { type DeidSource, LocalCacheSource } from './retrieve/retrieve.service.js';
export { vaultEntities, vaultOrmConfig } from './vault/orm.js';
