// `dccd migrate`: moves datasets still in the first on-disk layout into the current one.
import type { AppConfig } from '../config/app-config.ts';
import { buildServices } from '../services.ts';

export async function runMigrate(cfg: AppConfig): Promise<void> {
  const services = buildServices(cfg);
  try {
    const moved = await services.store.migrateLayout();
    if (moved.length === 0) console.log('nothing to migrate');
    for (const m of moved) {
      const both = m.inBoth > 0 ? `, ${m.inBoth} in both layouts (the newer write kept)` : '';
      console.log(`moved ${m.from} -> ${m.to}: ${m.moved} part${m.moved === 1 ? '' : 's'}${both}`);
    }
  } finally {
    await services.close();
  }
}
