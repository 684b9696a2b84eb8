import { Authorized, Query, Resolver } from 'type-graphql';
import { VERSION } from './version.js';

@Resolver()
export class VersionResolver {
  @Authorized('public')
  @Query(() => String, { description: 'Release version of the MedGrid server.' })
  version(): string {
    return VERSION;
  }
}
