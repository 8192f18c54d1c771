import type {Database} from 'better-sqlite3'

/**
 * Service addresses (docs/endpoints.md). `jobs.service_port`: the stable port a service
 * is reached at on every edge node (core/edge/service-ports.ts), unique among jobs and
 * freed with its job's row. Services recorded before it that front a TCP port get one
 * here, from 10000 up in the order they were created. `nodes.edge`: the node runs an
 * edge proxy (`clusterctl node edge NAME`, `add-node --edge`).
 */
export const version = 13

export function up(db: Database): void {
  db.exec(`
    ALTER TABLE jobs ADD COLUMN service_port INTEGER CHECK (service_port IS NULL OR service_port BETWEEN 1 AND 65535);
    CREATE UNIQUE INDEX jobs_service_port ON jobs (service_port) WHERE service_port IS NOT NULL;
    UPDATE jobs SET service_port = (
      SELECT 9999 + s.rn FROM (
        SELECT j.id, row_number() OVER (ORDER BY j.created_at, j.name) AS rn FROM jobs j
        WHERE j.kind = 'service' AND EXISTS (SELECT 1 FROM json_each(j.spec, '$.ports') p WHERE json_extract(p.value, '$.protocol') = 'tcp')
      ) s WHERE s.id = jobs.id AND s.rn <= 1000);
    ALTER TABLE nodes ADD COLUMN edge INTEGER NOT NULL DEFAULT 0 CHECK (edge IN (0, 1));
  `)
}
