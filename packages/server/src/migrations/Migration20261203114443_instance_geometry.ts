import { Migration } from '@mikro-orm/migrations';

export class Migration20261203114443_instance_geometry extends Migration {
  override name = 'Migration20261203114443_instance_geometry';

  override up(): void | Promise<void> {
    this.addSql(
      `alter table "study_instance" add "image_position_patient" varchar(128) null, add "image_orientation_patient" varchar(128) null;`,
    );
  }

  override down(): void | Promise<void> {
    this.addSql(
      `alter table "study_instance" drop column "image_position_patient", drop column "image_orientation_patient";`,
    );
  }
}
