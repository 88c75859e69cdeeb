// Public surface of the fleet's screens: the pure fleet view (rows, snapshot, overlay of the
// plan in force), its MQTT subscriber, the dashboard server and the two commands.

export { DEFAULT_BROKER, fleetDashboardCommand, fleetStatusCommand } from './cli.ts';
export { DashboardError, startDashboard } from './server.ts';
export type { Dashboard, DashboardOptions, DashboardStats } from './server.ts';
export { FleetSubscriber } from './subscriber.ts';
export type { FleetEvent, SubscriberOptions } from './subscriber.ts';
export { FleetView, statusTable } from './view.ts';
export type {
  DashboardSnapshot,
  FleetViewOptions,
  HistoryPoint,
  LinkState,
  OtaView,
  OverlayView,
  RobotView,
  StatusRow,
} from './view.ts';
